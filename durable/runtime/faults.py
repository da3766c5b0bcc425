"""A test-only fault hook: kill this process at a named point of the episode.

Crash tests set `DURABLE_TEST_CRASH_AT=<point>:<n>` in a host's environment; the n-th time
the process reaches `<point>` it sends itself SIGKILL, which no `finally` or `atexit` can
soften. Without the variable this costs one dictionary lookup.

Points: `after_commit` (history committed, nothing sent), `after_send` (outbox sent and, for
an orchestration, the Instances row written; for an entity the row is written after this
point, so a crash here leaves a batch whose outbox the next host sends again; the consumed
messages not acknowledged), `in_activity` (the activity
ran, its result not applied).
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "DURABLE_TEST_CRASH_AT"
_counts: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] == int(nth or "1")
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
