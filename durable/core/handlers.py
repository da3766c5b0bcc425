"""One small handler per history event type, applied to the execution's `ReplayState`.

Lifecycle events that change how later events are applied (suspend, resume, terminate,
completion) are handled by the session in `executor.py`, which owns the held-back queue.
Event types missing from the table (GenericEvent, HistoryState, ...) are no-ops for replay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from durable.core.determinism import ACTION_EVENT_TYPES
from durable.core.history import EventType, HistoryEvent
from durable.core.replay_state import ReplayState

Handler = Callable[[ReplayState, HistoryEvent], None]


def as_utc(moment: datetime) -> datetime:
    """History from storage may carry naive UTC timestamps; the context always hands out
    aware ones so that user arithmetic with `timedelta` and comparisons just work."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def on_orchestrator_started(state: ReplayState, event: HistoryEvent) -> None:
    state.current_utc_datetime = as_utc(event.timestamp)


def on_execution_started(state: ReplayState, event: HistoryEvent) -> None:
    if state.started:
        return  # a duplicate start message; the first one wins
    state.started = True
    state.name = event.name or state.name
    state.version = event.version
    state.execution_id = event.execution_id
    state.input_json = event.input
    state.parent = event.parent
    if state.current_utc_datetime.year == 1:  # no OrchestratorStarted seen (hand-built history)
        state.current_utc_datetime = as_utc(event.timestamp)


def on_action_recorded(state: ReplayState, event: HistoryEvent) -> None:
    state.confirm(event)


def on_task_completion(state: ReplayState, event: HistoryEvent) -> None:
    state.complete(event)


def on_event_raised(state: ReplayState, event: HistoryEvent) -> None:
    state.raise_event(event.name or "", event.input)


def _nothing(state: ReplayState, event: HistoryEvent) -> None:
    return None


COMPLETION_EVENT_TYPES = frozenset(
    {
        EventType.TaskCompleted,
        EventType.TaskFailed,
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
        EventType.TimerFired,
    }
)

HANDLERS: dict[EventType, Handler] = {
    EventType.OrchestratorStarted: on_orchestrator_started,
    EventType.OrchestratorCompleted: _nothing,
    EventType.ExecutionStarted: on_execution_started,
    EventType.EventRaised: on_event_raised,
    **{kind: on_action_recorded for kind in ACTION_EVENT_TYPES},
    **{kind: on_task_completion for kind in COMPLETION_EVENT_TYPES},
}
