"""The core must stay pure: importing it loads no Azure SDK, network, host or backend module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# `durable/__init__.py` (the public package) may import the app layer, so the child process
# registers a bare `durable` package first: what gets loaded is what the core itself imports.
SCRIPT = r"""
import importlib, json, pkgutil, sys, types
pkg = types.ModuleType("durable")
pkg.__path__ = [sys.argv[1] + "/durable"]
sys.modules["durable"] = pkg
import durable.core
for info in pkgutil.walk_packages(durable.core.__path__, "durable.core."):
    importlib.import_module(info.name)
importlib.import_module("durable.errors")
print(json.dumps(sorted(sys.modules)))
"""

FORBIDDEN_PREFIXES = (
    "azure",
    "aiohttp",
    "requests",
    "urllib3",
    "http.server",
    "http.client",
    "socket",
    "socketserver",
    "ssl",
    "asyncio",
    "threading",
    "concurrent",
    "emulator",
    "durable.storage",
    "durable.runtime",
    "durable.app",
    "durable.client",
    "durable.testing",
)


def test_core_imports_nothing_impure() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT)], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(out)
    assert "durable.core.replay" in loaded
    bad = [m for m in loaded if any(m == p or m.startswith(p + ".") for p in FORBIDDEN_PREFIXES)]
    assert bad == []
