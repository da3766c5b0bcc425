"""The end-to-end tier runs `python -m emulator start` as a subprocess; the helpers for it
are in `tests.support.hosts` (re-exported here for the tests that import them from here)."""

from tests.support.hosts import (
    APPS,
    READY,
    ROOT,
    START_TIMEOUT,
    HostProcess,
    free_port,
    host_command,
    host_env,
    queue,
    run_to_exit,
    running_host,
    unique,
    wait_for_messages,
)

__all__ = [
    "APPS",
    "READY",
    "ROOT",
    "START_TIMEOUT",
    "HostProcess",
    "free_port",
    "host_command",
    "host_env",
    "queue",
    "run_to_exit",
    "running_host",
    "unique",
    "wait_for_messages",
]
