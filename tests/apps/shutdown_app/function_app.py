"""The chaos app's functions with the default durableTask settings (a work item stays hidden
for five minutes while a host handles it), for the graceful-shutdown test: work a stopping
host leaves behind must reach another host at once, not after that lease."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parent.parent / "chaos_app" / "function_app.py"
_spec = importlib.util.spec_from_file_location("chaos_app_functions", _path)
assert _spec is not None and _spec.loader is not None
_functions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_functions)

app = _functions.app
