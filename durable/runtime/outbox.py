"""Outbound messages derived from committed history (the transactional outbox).

Every message an episode sends is a pure function of the history events that episode
committed, and its message id is derived from the sender's execution id and the event's
sequence number. After a crash between commit and send, re-deriving and re-sending yields
byte-identical messages, which receivers recognise by id and apply once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from durable.core.history import EventType, HistoryEvent, OrchestrationRuntimeStatus, ParentInstance
from durable.core.messages import TaskMessage

# Namespace for deterministic child execution ids, so a re-sent sub-orchestration start is
# the same message as the first one.
_EXECUTION_NAMESPACE = uuid.UUID("6f2f3a1e-52b5-4d3a-9f59-5c0b1b4f6f0e")


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to send: to the work-item queue when `to_work_items`, else a control queue."""

    message: TaskMessage
    to_work_items: bool = False
    visible_at: datetime | None = None


def child_execution_id(parent_execution_id: str, event_id: int) -> str:
    return uuid.uuid5(_EXECUTION_NAMESPACE, f"{parent_execution_id}:{event_id}").hex


def derive_outbound(
    instance_id: str,
    execution_id: str,
    started: HistoryEvent,
    episode_events: Iterable[HistoryEvent],
    now: datetime,
) -> list[Outbound]:
    """The messages an episode's committed events ask for, in history order."""
    out: list[Outbound] = []
    for ev in episode_events:
        msg = _message_for(instance_id, execution_id, started, ev, now)
        if msg is not None:
            out.append(msg)
    return out


def _message_for(
    instance_id: str,
    execution_id: str,
    started: HistoryEvent,
    ev: HistoryEvent,
    now: datetime,
) -> Outbound | None:
    mid = f"{execution_id}:{ev.event_id}:{int(ev.event_type)}"
    kind = ev.event_type
    if kind is EventType.TaskScheduled:
        return Outbound(TaskMessage(mid, instance_id, ev, execution_id), to_work_items=True)
    if kind is EventType.TimerCreated:
        assert ev.fire_at is not None
        fired = HistoryEvent(
            EventType.TimerFired, timestamp=now, timer_id=ev.event_id, fire_at=ev.fire_at
        )
        return Outbound(TaskMessage(mid, instance_id, fired, execution_id), visible_at=ev.fire_at)
    if kind is EventType.SubOrchestrationInstanceCreated:
        assert ev.instance_id is not None and ev.name is not None
        start = HistoryEvent(
            EventType.ExecutionStarted,
            timestamp=now,
            name=ev.name,
            version=ev.version,
            input=ev.input,
            instance_id=ev.instance_id,
            execution_id=child_execution_id(execution_id, ev.event_id),
            parent=ParentInstance(
                name=started.name or "",
                instance_id=instance_id,
                execution_id=execution_id,
                task_schedule_id=ev.event_id,
            ),
        )
        return Outbound(TaskMessage(mid, ev.instance_id, start, start.execution_id))
    if kind is EventType.EventSent:
        assert ev.instance_id is not None
        raised = HistoryEvent(EventType.EventRaised, timestamp=now, name=ev.name, input=ev.input)
        return Outbound(TaskMessage(mid, ev.instance_id, raised, None, instance_id))
    if kind is EventType.ExecutionCompleted and started.parent is not None:
        return _notify_parent(execution_id, started.parent, ev, now)
    return None


def _notify_parent(
    execution_id: str, parent: ParentInstance, ev: HistoryEvent, now: datetime
) -> Outbound:
    mid = f"{execution_id}:completed"
    if ev.orchestration_status is OrchestrationRuntimeStatus.Completed:
        done = HistoryEvent(
            EventType.SubOrchestrationInstanceCompleted,
            timestamp=now,
            task_scheduled_id=parent.task_schedule_id,
            result=ev.result,
        )
    else:
        fd = ev.failure_details
        done = HistoryEvent(
            EventType.SubOrchestrationInstanceFailed,
            timestamp=now,
            task_scheduled_id=parent.task_schedule_id,
            reason=fd.error_message if fd else (ev.result or "terminated"),
            details=fd.stack_trace if fd else None,
            failure_details=fd,
        )
    msg = TaskMessage(mid, parent.instance_id, done, parent.execution_id)
    return Outbound(msg)


def episode_containing(
    history: Sequence[HistoryEvent], message_ids: set[str]
) -> list[HistoryEvent] | None:
    """The events of the committed episode that consumed any of `message_ids`.

    Inbound events carry their message id; an episode that ended in continue-as-new records
    the ids it consumed in the new execution's first OrchestratorStarted `data`.
    """
    start = 0
    for i, ev in enumerate(history):
        if ev.event_type is EventType.OrchestratorStarted:
            start = i
        if ev.message_id in message_ids or _consumed_ids(ev) & message_ids:
            end = i
            while end < len(history) and history[end].event_type is not (
                EventType.OrchestratorCompleted
            ):
                end += 1
            return list(history[start : end + 1])
    return None


def _consumed_ids(ev: HistoryEvent) -> set[str]:
    if ev.event_type is not EventType.OrchestratorStarted or not ev.data:
        return set()
    return set(ev.data.split(","))


_COMPLETIONS = frozenset(
    {
        EventType.TaskCompleted,
        EventType.TaskFailed,
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
    }
)


def still_awaited(outbound: Sequence[Outbound], history: Sequence[HistoryEvent]) -> list[Outbound]:
    """Leave out re-sends whose answer history already holds: an activity that completed, a
    timer that fired, a sub-orchestration that finished. Re-sending those would only run
    work again for a result that would be ignored."""
    answered = {e.task_scheduled_id for e in history if e.event_type in _COMPLETIONS}
    answered |= {e.timer_id for e in history if e.event_type is EventType.TimerFired}
    return [o for o in outbound if _asked_for(o) not in answered]


def _asked_for(o: Outbound) -> int | None:
    """The sequence number whose completion answers this message, if any."""
    event = o.message.event
    if event.event_type is EventType.TaskScheduled:
        return event.event_id
    if event.event_type is EventType.TimerFired:
        return event.timer_id
    if event.event_type is EventType.ExecutionStarted and event.parent is not None:
        return event.parent.task_schedule_id
    return None
