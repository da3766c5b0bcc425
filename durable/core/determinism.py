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

from durable.core.actions import ACTION_KINDS, Action
from durable.core.history import HistoryEvent
from durable.errors import NonDeterminismError

# The history event types that record an action the orchestrator took.
ACTION_EVENT_TYPES = ACTION_KINDS.event_types

_FIX = (
    "The orchestrator code no longer does what it did when this instance ran before: "
    "either its code changed, or it is not deterministic (it reads the clock, random "
    "numbers, the environment or I/O, or state kept between runs; use "
    "context.current_utc_datetime, context.new_uuid() and activities instead). Do not "
    "change the code of orchestrations that have instances in flight: deploy the change "
    "as a new orchestrator name or version, or let in-flight instances finish (or "
    "terminate them) before deploying."
)


def matches(action: Action, event: HistoryEvent) -> bool:
    """Whether replayed code took the action history recorded at that sequence number (the
    rule is the action kind's: activity names case-insensitively, sub-orchestrations by name
    and instance id, events by target and name, entity operations by entity and operation)."""
    return ACTION_KINDS.matches(action, event)


def mismatch_error(
    action: Action, event: HistoryEvent, orchestrator: str, where: str | None
) -> NonDeterminismError:
    return NonDeterminismError(
        f"Non-deterministic orchestrator '{orchestrator}': expected "
        f"'{ACTION_KINDS.describe_event(event)}' at sequence {event.event_id}, got "
        f"'{ACTION_KINDS.describe(action)}'{_at(where)}. {_FIX}"
    )


def missing_action_error(
    event: HistoryEvent, orchestrator: str, where: str | None, finished: bool
) -> NonDeterminismError:
    doing = "had already completed" if finished else "did not schedule anything for it"
    return NonDeterminismError(
        f"Non-deterministic orchestrator '{orchestrator}': history has "
        f"'{ACTION_KINDS.describe_event(event)}' at sequence {event.event_id}, but the "
        f"replayed code {doing}{_at(where, 'waiting at ')}. {_FIX}"
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
