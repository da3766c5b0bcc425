"""W3C trace context of an orchestration execution, derived rather than stored.

An orchestration's span is emitted once, when the execution completes, possibly on another
host than the one that started it; its activities, sub-orchestrations and episodes are its
children long before that. Every host must therefore agree on the span's ids without
asking anyone: the trace id is the caller's (from the ExecutionStarted event's
`ParentTraceContext`), or derived from the instance and execution ids when the start had no
caller trace; the span id is always derived from them. Derived ids are the same after a
crash, on any host, and make re-sent outbox messages carry the same context.

No tracing library here: plain W3C `traceparent` strings (see `tracing.py` for the spans).
"""

from __future__ import annotations

import hashlib
import re

from durable.core.history import TraceContext

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
SAMPLED = "01"


def parse_traceparent(text: str | None) -> tuple[str, str, str] | None:
    """(trace id, span id, flags) as hex of a valid W3C `traceparent` (None: not valid)."""
    if not text:
        return None
    found = _TRACEPARENT.match(text.strip().lower())
    if found is None or found.group(1) == "ff":
        return None
    trace_id, span_id, flags = found.group(2), found.group(3), found.group(4)
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return trace_id, span_id, flags


def traceparent(trace_id: str, span_id: str, flags: str = SAMPLED) -> str:
    """A version-00 W3C `traceparent` value."""
    return f"00-{trace_id}-{span_id}-{flags}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def orchestration_context(
    instance_id: str, execution_id: str, started: TraceContext | None
) -> TraceContext:
    """The trace context of the orchestration span of one execution (its own ids, which
    children name as their parent)."""
    parent = parse_traceparent(started.trace_parent) if started is not None else None
    if parent is not None:
        trace_id, _, flags = parent
    else:
        trace_id, flags = _digest("trace", instance_id, execution_id)[:32], SAMPLED
    span_id = _digest("span", instance_id, execution_id)[:16]
    state = started.trace_state if started is not None and parent is not None else None
    return TraceContext(traceparent(trace_id, span_id, flags), state)


def task_context(
    instance_id: str, execution_id: str, task_id: int, started: TraceContext | None
) -> TraceContext:
    """The trace context of the client span of one scheduled task (an activity or a
    sub-orchestration, Durable Task's `activity:{name}` / `orchestration:{name}` client
    span): in the orchestration's trace, with a span id of its own, derived as well."""
    orchestration = orchestration_context(instance_id, execution_id, started)
    trace_id, _, flags = parse_traceparent(orchestration.trace_parent) or ("", "", SAMPLED)
    span_id = _digest("task", instance_id, execution_id, str(task_id))[:16]
    return TraceContext(traceparent(trace_id, span_id, flags), orchestration.trace_state)
