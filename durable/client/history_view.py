"""History as people read it: Durable Functions' `historyEvents` shape and a raw dump.

The status endpoint does not show history rows as stored. It hides the replay bookkeeping
(OrchestratorStarted/Completed), folds each TaskScheduled (and SubOrchestrationInstance-
Created) into the event that completed it, so one entry says what ran, when it was
scheduled and how it ended, and shows payloads only when asked to (`showHistoryOutput`,
`showInput`). `history_for_status` reproduces that; `event_to_dict` is the unabridged form
`durable get-history` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from durable.client.status import parse_json_text
from durable.core.history import EventType, HistoryEvent

# (HistoryEvent attribute, Durable Task member name); payloads are parsed from JSON text.
_MEMBERS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("version", "Version"),
    ("input", "Input"),
    ("result", "Result"),
    ("reason", "Reason"),
    ("details", "Details"),
    ("data", "Data"),
    ("failure_details", "FailureDetails"),
    ("task_scheduled_id", "TaskScheduledId"),
    ("timer_id", "TimerId"),
    ("fire_at", "FireAt"),
    ("instance_id", "InstanceId"),
    ("orchestration_status", "OrchestrationStatus"),
    ("scheduled_start_time", "ScheduledStartTime"),
    ("tags", "Tags"),
)
_HIDDEN = {EventType.OrchestratorStarted, EventType.OrchestratorCompleted}
_SCHEDULING = {
    EventType.TaskScheduled: (EventType.TaskCompleted, EventType.TaskFailed),
    EventType.SubOrchestrationInstanceCreated: (
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
    ),
}
_COMPLETIONS = {done: start for start, ends in _SCHEDULING.items() for done in ends}
_RESULT_KEPT = {
    EventType.TaskCompleted,
    EventType.SubOrchestrationInstanceCompleted,
    EventType.ExecutionCompleted,
    EventType.ContinueAsNew,
}


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as Durable Functions serializes history times."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.isoformat().replace("+00:00", "Z")


def _member(attr: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if attr == "orchestration_status":
        return value.name
    if attr == "failure_details":
        return value.to_dict()
    if attr in ("input", "result"):
        return parse_json_text(value)
    return value


def event_to_dict(event: HistoryEvent) -> dict[str, Any]:
    """Every field of an event, with its type and status as names and payloads parsed."""
    out: dict[str, Any] = {
        "EventType": event.event_type.name,
        "EventId": event.event_id,
        "Timestamp": iso(event.timestamp),
    }
    for attr, key in _MEMBERS:
        value = getattr(event, attr)
        if value is not None:
            out[key] = _member(attr, value)
    if event.event_type is EventType.ExecutionStarted and event.execution_id:
        out["ExecutionId"] = event.execution_id
    return out


def history_for_status(
    events: Sequence[HistoryEvent], show_history_output: bool, show_input: bool
) -> list[dict[str, Any]]:
    """The `historyEvents` of Durable Functions' status endpoint for one execution."""
    scheduled = _scheduling_index(events)
    folded: set[int] = set()
    entries: list[tuple[int, dict[str, Any]]] = []
    for index, event in enumerate(events):
        if event.event_type in _HIDDEN:
            continue
        entry = _entry(event, show_history_output, show_input)
        start_kind = _COMPLETIONS.get(event.event_type)
        if start_kind is not None and event.task_scheduled_id is not None:
            origin = scheduled.get((start_kind, event.task_scheduled_id))
            if origin is not None:
                folded.add(origin)
                _fold(entry, events[origin], show_input)
        entries.append((index, entry))
    return [entry for index, entry in entries if index not in folded]


def _scheduling_index(events: Sequence[HistoryEvent]) -> dict[tuple[EventType, int], int]:
    return {
        (e.event_type, e.event_id): i
        for i, e in enumerate(events)
        if e.event_type in _SCHEDULING
    }


def _entry(event: HistoryEvent, show_output: bool, show_input: bool) -> dict[str, Any]:
    entry = event_to_dict(event)
    del entry["EventId"]
    entry.pop("Version", None)
    entry.pop("Tags", None)
    kind = event.event_type
    if kind is EventType.ExecutionStarted:
        entry["FunctionName"] = entry.pop("Name", None)
        entry.pop("ExecutionId", None)
        entry.pop("InstanceId", None)
        if event.parent is not None:  # Durable Task's ParentInstance, for links to it
            entry["ParentInstance"] = event.parent.to_dict()
    if kind in _COMPLETIONS:
        entry.pop("TaskScheduledId", None)
    if kind is EventType.TimerFired:
        entry.pop("TimerId", None)
    if not show_input:
        entry.pop("Input", None)
    if not show_output and kind in _RESULT_KEPT:
        entry.pop("Result", None)
    return entry


def _fold(entry: dict[str, Any], origin: HistoryEvent, show_input: bool) -> None:
    entry["FunctionName"] = origin.name
    entry["ScheduledTime"] = iso(origin.timestamp)
    if show_input:
        entry["Input"] = parse_json_text(origin.input)
    if origin.event_type is EventType.SubOrchestrationInstanceCreated and origin.instance_id:
        entry.setdefault("InstanceId", origin.instance_id)
