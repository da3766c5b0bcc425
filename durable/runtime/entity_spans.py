"""The spans of an entity batch: one per operation it ran, emitted once the batch commits.

The core runs a batch without a clock, so every operation's span covers the batch (from
the episode's start to its commit); an operation a calling orchestration sent is a child
of that orchestration's span (its message carries the orchestration's trace context).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from durable.core.entities import EntityId, EntityRequest
from durable.core.entity_scheduler import BatchOutcome
from durable.core.history import TraceContext
from durable.core.messages import TaskMessage
from durable.runtime import tracing


def _callers(applied: Sequence[TaskMessage]) -> dict[str, TraceContext]:
    """The trace context each request arrived with, by request id."""
    found: dict[str, TraceContext] = {}
    for message in applied:
        ctx = message.event.trace_context
        if ctx is None:
            continue
        try:
            found[EntityRequest.from_json(message.event.input).id] = ctx
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not a single operation request (a lock release, a signal batch)
    return found


def batch_trace(
    instance_id: str, hub: str, applied: Sequence[TaskMessage], outcome: BatchOutcome
) -> Callable[[int, int], None]:
    """What to emit once the batch is committed: `emit(start_ns, end_ns)`."""
    entity = EntityId.get_entity_id(instance_id)
    callers = _callers(applied)

    def emit(start_ns: int, end_ns: int) -> None:
        for op in outcome.operations:
            failure = op.failure
            attrs: dict[str, str | int] = {
                tracing.TYPE: "entity",
                tracing.TASK_NAME: entity.name,
                tracing.INSTANCE_ID: instance_id,
                tracing.ENTITY_OPERATION: op.operation,
                tracing.STATUS: "Failed" if failure else "Completed",
                tracing.TASK_HUB: hub,
            }
            tracing.emit(tracing.Finished(
                tracing.span_name("entity", f"{entity.name}:{op.operation}"),
                "server", attrs, start_ns, end_ns, parent=callers.get(op.request_id),
                error=failure.error_message if failure else None,
            ))

    return emit
