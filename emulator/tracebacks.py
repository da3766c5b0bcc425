"""Tracebacks that start at the app's code: frames of the host itself, importlib and the
standard library's asyncio / thread-pool plumbing that lead into the app are left out."""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path
from types import TracebackType

_SKIPPED = (
    str(Path(__file__).resolve().parent),
    str(Path(sysconfig.get_paths()["stdlib"]).resolve()),
    "<frozen importlib",
)


def app_traceback(exc: BaseException) -> str:
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_SKIPPED):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
