"""OpenTelemetry spans, when the OpenTelemetry API is installed and a tracer provider is set.

The only module of the package that imports `opentelemetry`, and only if it is there (the
`durable[otel]` extra): without it every function here is a cheap no-op, and so is it while
no tracer provider is configured (`active()` is False), so that callers can skip building
attributes altogether. Users configure exporters the standard way (their own
`TracerProvider`, `OTEL_*` variables, `azure-monitor-opentelemetry`); nothing is exported
by default.

Names and attributes are Durable Task's distributed tracing (v2) ones: `orchestration:{name}`,
`activity:{name}`, `create_orchestration:{name}`, `durabletask.type`, `durabletask.task.*`.

Two ways to emit a span:
- live, around work that happens now (`span`: an activity execution, a client's start);
- afterwards, from recorded times (`emit`), for work whose span may only be written once
  it is committed (an episode, an entity operation) or once it is over (an orchestration,
  a task's client span), whose span ids are fixed in advance by `trace_context.py`, so that
  its children can name it before it exists; that needs the OpenTelemetry SDK, see
  `_emit_with_ids`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from durable.core.history import TraceContext
from durable.runtime.trace_context import parse_traceparent

log = logging.getLogger("durable.tracing")

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _PROPAGATOR: Any = TraceContextTextMapPropagator()
except ImportError:  # the durable[otel] extra is not installed: tracing is off
    otel_trace = None  # type: ignore[assignment]

TRACER_NAME = "durable"

# Durable Task's attribute names (distributed tracing v2) ...
TYPE = "durabletask.type"
TASK_NAME = "durabletask.task.name"
TASK_VERSION = "durabletask.task.version"
INSTANCE_ID = "durabletask.task.instance_id"
EXECUTION_ID = "durabletask.task.execution_id"
TASK_ID = "durabletask.task.task_id"
STATUS = "durabletask.task.status"
FIRE_AT = "durabletask.fire_at"
EVENT_NAME = "durabletask.event.name"
EVENT_TARGET = "durabletask.event.target_instance_id"
# ... and ours, where Durable Task defines none.
TASK_HUB = "durabletask.task_hub"
EPISODE = "durabletask.episode"
ENTITY_OPERATION = "durabletask.entity.operation"

# Span kinds by name, so that callers need not import OpenTelemetry.
_KINDS = ("internal", "server", "client", "producer", "consumer")


def span_name(kind: str, name: str, version: str | None = None) -> str:
    """Durable Task's span name: `{kind}:{name}`, with `@{version}` when there is one."""
    return f"{kind}:{name}@{version}" if version else f"{kind}:{name}"


def task_attributes(
    kind: str,
    name: str,
    instance_id: str,
    execution_id: str | None,
    hub: str,
    *,
    task_id: int | None = None,
    version: str | None = None,
) -> dict[str, str | int]:
    """The attributes every span of an orchestration or its tasks carries: Durable Task's
    type, task name, instance and execution ids (plus the task id and version when there
    are), and the task hub."""
    attrs: dict[str, str | int] = {
        TYPE: kind,
        TASK_NAME: name,
        INSTANCE_ID: instance_id,
        EXECUTION_ID: execution_id or "",
    }
    if task_id is not None:
        attrs[TASK_ID] = task_id
    if version:
        attrs[TASK_VERSION] = version
    attrs[TASK_HUB] = hub
    return attrs


_on = False  # once a provider is set it stays set (OpenTelemetry allows no replacing it)


def active() -> bool:
    """Whether spans are recorded: the API is installed and a tracer provider is set."""
    global _on
    if _on or otel_trace is None:
        return _on
    provider = otel_trace.get_tracer_provider()
    _on = not isinstance(provider, otel_trace.ProxyTracerProvider | otel_trace.NoOpTracerProvider)
    return _on


def _kind(name: str) -> Any:
    assert name in _KINDS, name
    return getattr(SpanKind, name.upper())


def _tracer() -> Any:
    return otel_trace.get_tracer(TRACER_NAME)


def _context_of(parent: TraceContext | None) -> Any:
    """An OpenTelemetry context whose current span is `parent` (None: the ambient one)."""
    if parent is None or parse_traceparent(parent.trace_parent) is None:
        return None
    carrier = {"traceparent": parent.trace_parent}
    if parent.trace_state:
        carrier["tracestate"] = parent.trace_state
    return _PROPAGATOR.extract(carrier)


def current() -> TraceContext | None:
    """The ambient span's context as a W3C trace context (None: no valid span is current)."""
    if otel_trace is None:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    if "traceparent" not in carrier:
        return None
    return TraceContext(carrier["traceparent"], carrier.get("tracestate") or None)


@contextmanager
def attached(parent: TraceContext | None) -> Iterator[None]:
    """Make `parent` the ambient context for the block (for a caller's trace that arrived
    in a header); a no-op without one, or when a valid span is already current."""
    ctx = _context_of(parent) if otel_trace is not None else None
    if ctx is None or current() is not None:
        yield
        return
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


class LiveSpan:
    """A span around work in progress; `fail` sets its error status."""

    def __init__(self, span: Any) -> None:
        self._span = span

    def set(self, key: str, value: str | int) -> None:
        """Set one attribute (a status known only at the end)."""
        self._span.set_attribute(key, value)

    def fail(self, message: str) -> None:
        """Mark the span failed with `message` (the task's failure, not a crash)."""
        self._span.set_status(Status(StatusCode.ERROR, message))


@contextmanager
def span(
    name: str,
    kind: str,
    attributes: Mapping[str, str | int],
    parent: TraceContext | None = None,
) -> Iterator[LiveSpan]:
    """A current span around the block, child of `parent` (None: of the ambient span). An
    exception leaving the block sets the error status with its message."""
    tracer = _tracer()
    with tracer.start_as_current_span(
        name, context=_context_of(parent), kind=_kind(kind), attributes=dict(attributes)
    ) as live:
        yield LiveSpan(live)


@dataclass(frozen=True)
class SpanEvent:
    """A point in time inside a span (a timer that fired, an event that arrived)."""

    name: str
    time_ns: int
    attributes: Mapping[str, str | int]


@dataclass(frozen=True)
class Finished:
    """A span of work already done, emitted afterwards with its recorded times. `own` fixes
    the span's ids (an orchestration's, known to its children in advance)."""

    name: str
    kind: str
    attributes: Mapping[str, str | int]
    start_ns: int
    end_ns: int
    parent: TraceContext | None = None
    error: str | None = None
    events: Sequence[SpanEvent] = ()
    own: TraceContext | None = None
    # Spans this one follows from without being their child (the senders of its events).
    links: Sequence[TraceContext] = ()


def emit(done: Finished) -> None:
    """Export a span of finished work. Never raises: tracing must not fail an episode."""
    try:
        if done.own is not None and _emit_with_ids(done):
            return
        tracer = _tracer()
        live = tracer.start_span(
            done.name, context=_context_of(done.parent), kind=_kind(done.kind),
            attributes=dict(done.attributes), links=_links(done.links),
            start_time=done.start_ns,
        )
        _finish(live, done)
    except Exception:
        log.warning("Could not emit the span %r", done.name, exc_info=True)


def _links(contexts: Sequence[TraceContext]) -> list[Any]:
    links = []
    for ctx in contexts:
        span_ctx = otel_trace.get_current_span(_context_of(ctx)).get_span_context()
        if span_ctx.is_valid:
            links.append(otel_trace.Link(span_ctx))
    return links


def _finish(live: Any, done: Finished) -> None:
    for event in done.events:
        live.add_event(event.name, dict(event.attributes), timestamp=event.time_ns)
    if done.error is not None:
        live.set_status(Status(StatusCode.ERROR, done.error))
    live.end(end_time=max(done.end_ns, done.start_ns))


def _emit_with_ids(done: Finished) -> bool:
    """Emit `done` under the ids in `done.own`. The OpenTelemetry API lets nobody choose a
    span's ids, but the SDK's tracer draws them from its public `id_generator`: ours (and
    only ours, the "durable" tracer's) is wrapped in one that hands out the fixed ids while
    this span starts, so the span otherwise goes through the SDK's whole pipeline (sampler,
    limits, processors). False when the provider is not the SDK's: the span then gets ids
    of its own, and its children name a parent nobody exported."""
    own = parse_traceparent(done.own.trace_parent if done.own else None)
    tracer = _tracer()
    inner = getattr(tracer, "id_generator", None)
    if own is None or inner is None:
        return False
    if not isinstance(inner, _FixedIds):
        tracer.id_generator = _FixedIds(inner)
    token = _FIXED.set((int(own[0], 16), int(own[1], 16)))
    try:
        live = tracer.start_span(
            done.name, context=_context_of(done.parent), kind=_kind(done.kind),
            attributes=dict(done.attributes), links=_links(done.links),
            start_time=done.start_ns,
        )
    finally:
        _FIXED.reset(token)
    _finish(live, done)
    return True


# The (trace id, span id) the next span of the "durable" tracer takes, while one is set.
_FIXED: ContextVar[tuple[int, int] | None] = ContextVar("durable_fixed_span_ids", default=None)


class _FixedIds:
    """An SDK id generator that hands out `_FIXED` when set, else asks the one it wraps."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def generate_span_id(self) -> int:
        fixed = _FIXED.get()
        return fixed[1] if fixed is not None else int(self.inner.generate_span_id())

    def generate_trace_id(self) -> int:
        fixed = _FIXED.get()
        return fixed[0] if fixed is not None else int(self.inner.generate_trace_id())

    def is_trace_id_random(self) -> bool:
        if _FIXED.get() is not None:
            return False
        check = getattr(self.inner, "is_trace_id_random", None)
        return bool(check()) if check is not None else False
