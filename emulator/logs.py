"""Console output in the style of the Functions host.

Host messages go through the `emulator` logger. The app's own `logging` output goes through
the root logger; while an invocation runs (tracked with a context variable, which follows
`asyncio` tasks and the thread-pool hand-off) its lines carry the function's name.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

HOST_LOGGER = "emulator"


@dataclass(frozen=True)
class InvocationScope:
    function_name: str
    invocation_id: str


current_invocation: ContextVar[InvocationScope | None] = ContextVar(
    "current_invocation", default=None
)


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _HostFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return f"[{timestamp()}] {text}"


class _FunctionFormatter(logging.Formatter):
    """User log lines: `[time] Functions.<name>: message` inside an invocation."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        scope = current_invocation.get()
        if scope is not None:
            return f"[{timestamp()}] Functions.{scope.function_name}: {text}"
        if record.name != "root":
            return f"[{timestamp()}] {record.name}: {text}"
        return f"[{timestamp()}] {text}"


def setup_logging(verbose: bool) -> logging.Logger:
    """Install the host's handlers; returns the host logger."""
    host = logging.getLogger(HOST_LOGGER)
    host.handlers.clear()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_HostFormatter())
    host.addHandler(handler)
    host.setLevel(logging.DEBUG if verbose else logging.INFO)
    host.propagate = False

    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    user_handler = logging.StreamHandler(sys.stdout)
    user_handler.setFormatter(_FunctionFormatter())
    root.addHandler(user_handler)
    root.setLevel(logging.INFO)
    # Storage SDK request logs and aiohttp access logs would drown the app's output.
    logging.getLogger("azure").setLevel(logging.WARNING)
    for noisy in ("aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    return host


def quiet_after_shutdown() -> None:
    """After the loop has stopped, the app's unclosed storage sessions are only reported by
    garbage collection while the interpreter exits, when formatting can no longer import
    anything; neither helps the user."""
    logging.raiseExceptions = False
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def host_logger(name: str | None = None) -> logging.Logger:
    return logging.getLogger(HOST_LOGGER if name is None else f"{HOST_LOGGER}.{name}")
