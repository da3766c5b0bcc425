"""The one place that matches replayed actions against history and words the error.

History records, for each sequence number, the action the orchestrator took the first time
(TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated, EventSent). Replaying code
must take the same action at the same sequence number, as Durable Task requires: activity
names compare case-insensitively, sub-orchestrations by name and instance id, events by
target and name. The message names both sides, the orchestrator's line, and the fix.
"""

from __future__ import annotations

import linecache
import sys
from types import FrameType

from durable.core.actions import (
    Action,
    CreateSubOrchestration,
    CreateTimer,
    ScheduleTask,
    SendEvent,
    describe_action,
)
from durable.core.history import EventType, HistoryEvent
from durable.errors import NonDeterminismError

ACTION_EVENT_TYPES = frozenset(
    {
        EventType.TaskScheduled,
        EventType.TimerCreated,
        EventType.SubOrchestrationInstanceCreated,
        EventType.EventSent,
    }
)

_FIX = (
    "The orchestrator code no longer does what it did when this instance ran before. "
    "Do not change the code of orchestrations that have instances in flight: deploy the "
    "change as a new orchestrator name (versioning), or let in-flight instances finish "
    "(or terminate them) before deploying."
)


def describe_event(event: HistoryEvent) -> str:
    kind = event.event_type
    if kind is EventType.TaskScheduled:
        return f"TaskScheduled {event.name}"
    if kind is EventType.SubOrchestrationInstanceCreated:
        return f"SubOrchestrationInstanceCreated {event.name} (instance '{event.instance_id}')"
    if kind is EventType.EventSent:
        return f"EventSent {event.name} to '{event.instance_id}'"
    return kind.name


def matches(action: Action, event: HistoryEvent) -> bool:
    kind = event.event_type
    if isinstance(action, ScheduleTask):
        return kind is EventType.TaskScheduled and action.name.lower() == (event.name or "").lower()
    if isinstance(action, CreateTimer):
        return kind is EventType.TimerCreated
    if isinstance(action, CreateSubOrchestration):
        return (
            kind is EventType.SubOrchestrationInstanceCreated
            and action.name.lower() == (event.name or "").lower()
            and action.instance_id == event.instance_id
        )
    if isinstance(action, SendEvent):
        return (
            kind is EventType.EventSent
            and action.instance_id == event.instance_id
            and action.name == event.name
        )
    return False


def mismatch_error(
    action: Action, event: HistoryEvent, orchestrator: str, where: str | None
) -> NonDeterminismError:
    return NonDeterminismError(
        f"Non-deterministic orchestrator '{orchestrator}': expected "
        f"'{describe_event(event)}' at sequence {event.event_id}, got "
        f"'{describe_action(action)}'{_at(where)}. {_FIX}"
    )


def missing_action_error(
    event: HistoryEvent, orchestrator: str, where: str | None, finished: bool
) -> NonDeterminismError:
    doing = "had already completed" if finished else "did not schedule anything for it"
    return NonDeterminismError(
        f"Non-deterministic orchestrator '{orchestrator}': history has "
        f"'{describe_event(event)}' at sequence {event.event_id}, but the replayed code "
        f"{doing}{_at(where, 'waiting at ')}. {_FIX}"
    )


def _at(where: str | None, prefix: str = "") -> str:
    return f" ({prefix}{where})" if where else ""


def caller_location() -> str | None:
    """The first stack frame outside this package: the orchestrator line making the call."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("durable.core"):
        frame = frame.f_back
    return frame_location(frame)


def frame_location(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    source = linecache.getline(filename, lineno).strip()
    where = f"{filename}, line {lineno}, in {frame.f_code.co_name}"
    return f"{where}: {source}" if source else where
