"""Outbound messages derived from committed history (the transactional outbox).

Every message an episode sends is a pure function of the committed history up to the end of
that episode, and its message id is derived from the sender's execution id and the event's
sequence number. After a crash between commit and send, re-deriving and re-sending yields
byte-identical messages, which receivers recognise by id and apply once.

Work items are sent through a window: an execution has at most `DISPATCH_WINDOW` activities
queued and unanswered. A fan-out of 10,000 schedules all of them in history at once, sends
the first `DISPATCH_WINDOW` work items, and each later episode that records completions sends
as many of the rest as it answered, in schedule order. Which items an episode sends follows
from history alone (the items released after it minus those released before it), so a
re-derivation after a crash sends the same ones, and any host serving the next episode
continues the same sequence. While items remain unreleased, `DISPATCH_WINDOW` released ones
are unanswered, each with its queued work item, so an answer (and with it the next episode)
always comes. It keeps queues short: a queue's cost per operation grows with its depth on
the storage emulator, and a fan-out's host holds only the window's backlog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from durable.core.actions import ACTION_KINDS, Origin, child_execution_id

__all__ = ["DISPATCH_WINDOW", "Outbound", "child_execution_id", "derive_outbound",
           "episode_outbound", "episode_spans", "recovery_anchor", "still_awaited"]
from durable.core.history import (
    EventType,
    HistoryEvent,
    OrchestrationRuntimeStatus,
    ParentInstance,
)
from durable.core.messages import TaskMessage
from durable.runtime import tracing
from durable.runtime.trace_context import orchestration_context, task_context

# Activities of one execution queued and unanswered at most (see the module's docstring).
DISPATCH_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to send: to the work-item queue when `to_work_items`, else a control queue."""

    message: TaskMessage
    to_work_items: bool = False
    visible_at: datetime | None = None


def derive_outbound(
    instance_id: str,
    execution_id: str,
    started: HistoryEvent,
    episode_events: Iterable[HistoryEvent],
    now: datetime,
) -> list[Outbound]:
    """The messages an episode's committed events ask for, in history order. While tracing
    is on, the work they start carries a trace context (as Durable Task's
    `ParentTraceContext`), derived, so that a re-sent message carries the same."""
    out: list[Outbound] = []
    traced = tracing.active()
    for ev in episode_events:
        msg = _message_for(instance_id, execution_id, started, ev, now)
        if msg is not None:
            out.append(_traced(msg, instance_id, execution_id, started) if traced else msg)
    return out


def episode_outbound(
    instance_id: str,
    execution_id: str,
    started: HistoryEvent,
    history: Sequence[HistoryEvent],
    start: int,
    now: datetime,
    window: int = DISPATCH_WINDOW,
) -> list[Outbound]:
    """The messages of the episode that committed `history[start:]` (the execution's history
    before it is `history[:start]`): its own messages except work items, then the work items
    the window releases after it that it had not released before."""
    out = [o for o in derive_outbound(instance_id, execution_id, started, history[start:], now)
           if o.message.event.event_type is not EventType.TaskScheduled]
    scheduled: list[HistoryEvent] = []
    answered = first = before = 0
    finished = False
    for i, ev in enumerate(history):
        if i == start:
            before, first = len(scheduled), min(len(scheduled), answered + window)
        if ev.event_type is EventType.TaskScheduled:
            scheduled.append(ev)
        elif ev.event_type in _ACTIVITY_ANSWERS:
            answered += 1
        elif ev.event_type is EventType.ExecutionCompleted:
            finished = True
    if start >= len(history):
        before, first = len(scheduled), min(len(scheduled), answered + window)
    last = min(len(scheduled), answered + window)
    if finished:
        # A finished execution sends what its last episode scheduled, as without a window,
        # but none of the earlier work items still held back: no one awaits them any more.
        first = max(first, before)
    out += derive_outbound(instance_id, execution_id, started, scheduled[first:last], now)
    return out


def _traced(o: Outbound, instance_id: str, execution_id: str, started: HistoryEvent) -> Outbound:
    """The message with the context of the span it continues: a work item or a
    sub-orchestration start that of its task's client span, an event sent to another
    instance that of the sending orchestration."""
    event = o.message.event
    if event.event_type is EventType.TaskScheduled:
        ctx = task_context(instance_id, execution_id, event.event_id, started.trace_context)
    elif event.event_type is EventType.ExecutionStarted and event.parent is not None:
        task_id = event.parent.task_schedule_id
        ctx = task_context(instance_id, execution_id, task_id, started.trace_context)
    elif event.event_type is EventType.EventRaised:
        ctx = orchestration_context(instance_id, execution_id, started.trace_context)
    else:
        return o
    message = replace(o.message, event=event.replace(trace_context=ctx))
    return replace(o, message=message)


def _message_for(
    instance_id: str,
    execution_id: str,
    started: HistoryEvent,
    ev: HistoryEvent,
    now: datetime,
) -> Outbound | None:
    if ev.event_type is EventType.ExecutionCompleted and started.parent is not None:
        return _notify_parent(execution_id, started.parent, ev, now)
    origin = Origin(instance_id, execution_id, started.name or "", now)
    delivery = ACTION_KINDS.deliver(ev, origin)
    if delivery is None:
        return None
    mid = f"{execution_id}:{ev.event_id}:{int(ev.event_type)}"
    message = TaskMessage(
        mid,
        delivery.instance_id,
        delivery.event,
        delivery.execution_id,
        instance_id if delivery.from_origin else None,
    )
    return Outbound(message, delivery.to_work_items, delivery.visible_at)


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


def episode_spans(history: Sequence[HistoryEvent], message_ids: set[str]) -> list[tuple[int, int]]:
    """The [start, end) index ranges of the committed episodes that consumed any of
    `message_ids`, in order.

    Inbound events carry their message id; an episode that ended in continue-as-new records
    the ids it consumed in the new execution's first OrchestratorStarted `data`.
    """
    found: list[tuple[int, int]] = []
    start, taken = 0, False
    for i, ev in enumerate(history):
        if ev.event_type is EventType.OrchestratorStarted:
            start, taken = i, False
        if not taken and (ev.message_id in message_ids or _consumed_ids(ev) & message_ids):
            end = i
            while end < len(history) and history[end].event_type is not (
                EventType.OrchestratorCompleted
            ):
                end += 1
            found.append((start, min(end + 1, len(history))))
            taken = True
    return found


def recovery_anchor(batch: Sequence[TaskMessage], events: Iterable[HistoryEvent]) -> str | None:
    """A message of `batch` whose redelivery `episode_spans` maps back to the episode that
    committed `events` (None: the commit recorded none). A control-queue message is
    preferred to an activity's result: a result handled in-process has only its work item
    queued, which would have to run again before recovery."""
    recorded: set[str] = set()
    for ev in events:
        if ev.message_id:
            recorded.add(ev.message_id)
        recorded |= _consumed_ids(ev)
    candidates = [m for m in batch if m.message_id in recorded]
    direct = [m for m in candidates if m.event.event_type not in _ACTIVITY_ANSWERS]
    chosen = direct or candidates
    return chosen[0].message_id if chosen else None


def _consumed_ids(ev: HistoryEvent) -> set[str]:
    if ev.event_type is not EventType.OrchestratorStarted or not ev.data:
        return set()
    return set(ev.data.split(","))


_ACTIVITY_ANSWERS = frozenset({EventType.TaskCompleted, EventType.TaskFailed})

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


def answer_ids(outbound: Sequence[Outbound]) -> set[str]:
    """The message ids of the answers this instance itself receives to `outbound`: an
    activity's result, a timer's firing. An answer handled in-process can be applied before
    its queued copy exists (see `durable.runtime.local`); the episode that applied it is then
    recovered through the episode that sent the work (`OrchestrationKind.recover`)."""
    ids: set[str] = set()
    for o in outbound:
        kind = o.message.event.event_type
        if kind is EventType.TaskScheduled:
            ids.add(f"{o.message.message_id}:done")
        elif kind is EventType.TimerFired:
            ids.add(o.message.message_id)
    return ids


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
