"""History as JSON files: Durable Functions' out-of-process format, written and read, and
the dump `durable get-history` prints, read.

The Functions host hands an out-of-process orchestrator its history as a JSON list of
Durable Task events: `EventType` is the event's number, `EventId`, `IsPlayed` and
`Timestamp` come first, then the members of that kind of event (`Name`, `Version`, `Input`,
`Result`, `TaskScheduledId`, `FireAt`, ...), payloads as JSON *text*, as the History table
holds them. `to_durable_json` writes that shape, so an exported history reads as one from
Durable Functions does; `events_from_json` reads it back, and also reads our own dump
(`EventType` as a name and payloads parsed) and the orchestration trigger's whole context
(`{"history": [...], ...}`). The form is told apart by `EventType`: a number is Durable
Functions' shape, a name our dump.

Pure: no file is read here (`durable.testing.replay` opens files).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from durable.core.history import EventType, HistoryEvent, ParentInstance
from durable.core.status import OrchestrationRuntimeStatus
from durable.errors import FailureDetails, HistoryFormatError

# (HistoryEvent attribute, member name) of the members written as they are (text, numbers,
# dicts of text). Instance ids and statuses, payloads and times have their own rules below.
_PLAIN: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("version", "Version"),
    ("reason", "Reason"),
    ("details", "Details"),
    ("data", "Data"),
    ("task_scheduled_id", "TaskScheduledId"),
    ("timer_id", "TimerId"),
    ("tags", "Tags"),
)
_PAYLOADS: tuple[tuple[str, str], ...] = (("input", "Input"), ("result", "Result"))
_TIMES: tuple[tuple[str, str], ...] = (
    ("fire_at", "FireAt"),
    ("scheduled_start_time", "ScheduledStartTime"),
)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as Durable Task serializes event times."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.isoformat().replace("+00:00", "Z")


def to_durable_json(events: Sequence[HistoryEvent]) -> list[dict[str, Any]]:
    """The events in Durable Functions' out-of-process JSON shape (JSON-ready dicts)."""
    return [_event_out(e) for e in events]


def _event_out(event: HistoryEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "EventType": int(event.event_type),
        "EventId": event.event_id,
        "IsPlayed": event.is_played,
        "Timestamp": iso_utc(event.timestamp),
    }
    if event.event_type is EventType.ExecutionStarted:
        out["OrchestrationInstance"] = {
            "InstanceId": event.instance_id,
            "ExecutionId": event.execution_id,
        }
        out["ParentInstance"] = event.parent.to_dict() if event.parent else None
    elif event.instance_id is not None:
        out["InstanceId"] = event.instance_id
    for attr, key in (*_PLAIN, *_PAYLOADS):
        value = getattr(event, attr)
        if value is not None:
            out[key] = value
    for attr, key in _TIMES:
        value = getattr(event, attr)
        if value is not None:
            out[key] = iso_utc(value)
    if event.failure_details is not None:
        out["FailureDetails"] = event.failure_details.to_dict()
    if event.orchestration_status is not None:
        out["OrchestrationStatus"] = event.orchestration_status.code
    return out


def events_from_json(data: Any) -> list[HistoryEvent]:
    """Events from a parsed JSON history: a list of events in Durable Functions' shape or
    in our dump's, or an orchestration context holding one under `history`."""
    if isinstance(data, Mapping):
        if "history" not in data:
            raise HistoryFormatError(
                "A history is a JSON list of events (or an object with a 'history' list); "
                f"this object has only {', '.join(map(str, data)) or 'no members'}."
            )
        data = data["history"]
    if not isinstance(data, list):
        raise HistoryFormatError(
            f"A history is a JSON list of events, not {type(data).__name__}."
        )
    return [_event_in(item, index) for index, item in enumerate(data)]


def _event_in(item: Any, index: int) -> HistoryEvent:
    if not isinstance(item, Mapping):
        raise HistoryFormatError(
            f"Event {index} of the history is {type(item).__name__}, not a JSON object."
        )
    try:
        return _parse_event(item)
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryFormatError(
            f"Event {index} of the history cannot be read ({_why(exc)}): "
            f"{json.dumps(item, default=str)[:200]}"
        ) from None


def _why(exc: Exception) -> str:
    return f"missing member {exc}" if isinstance(exc, KeyError) else str(exc)


def _parse_event(item: Mapping[str, Any]) -> HistoryEvent:
    kind, texts = _event_type(item["EventType"])
    fields: dict[str, Any] = {
        "event_type": kind,
        "timestamp": _time(item["Timestamp"]),
        "event_id": int(item.get("EventId", -1)),
        "is_played": bool(item.get("IsPlayed", False)),
    }
    for attr, key in _PLAIN:
        if item.get(key) is not None:
            fields[attr] = item[key]
    for attr, key in _PAYLOADS:
        if key in item and (item[key] is not None or not texts):
            fields[attr] = item[key] if texts else json.dumps(item[key])
    for attr, key in _TIMES:
        if item.get(key) is not None:
            fields[attr] = _time(item[key])
    for key, read in _STRUCTURED.items():
        if item.get(key) is not None:
            fields.update(read(item[key]))
    return HistoryEvent(**fields)


def _event_type(value: Any) -> tuple[EventType, bool]:
    """The kind, and whether payloads are JSON text (Durable Functions' numbered form)."""
    if isinstance(value, bool):
        raise ValueError(f"EventType {value!r} is neither a number nor a name")
    if isinstance(value, int):
        return EventType(value), True
    if isinstance(value, str) and value in EventType.__members__:
        return EventType[value], False
    raise ValueError(f"EventType {value!r} is not a Durable Task event type")


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"a time is ISO 8601 text, not {value!r}")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _status(value: Any) -> dict[str, Any]:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"orchestration_status": OrchestrationRuntimeStatus.from_code(value)}
    return {"orchestration_status": OrchestrationRuntimeStatus[str(value)]}


def _instance(value: Any) -> dict[str, Any]:
    return {"instance_id": value.get("InstanceId"), "execution_id": value.get("ExecutionId")}


# Members that are objects or need converting, each read by one small function.
_STRUCTURED: dict[str, Callable[[Any], dict[str, Any]]] = {
    "OrchestrationInstance": _instance,
    "InstanceId": lambda v: {"instance_id": str(v)},
    "ExecutionId": lambda v: {"execution_id": str(v)},
    "ParentInstance": lambda v: {"parent": ParentInstance.from_dict(v)},
    "FailureDetails": lambda v: {"failure_details": FailureDetails.from_dict(v)},
    "OrchestrationStatus": _status,
}


__all__ = ["events_from_json", "iso_utc", "to_durable_json"]
