"""The one translation between the internal event model and storage shapes.

Two shapes, one field table: History table rows (DF's column names, enum names, native
datetimes, complex members as JSON strings) and queue message JSON (a `MessageData`-like
envelope with integer event types and ISO timestamps). Keeping both on one table of fields is
what makes "every field round-trips" checkable in one place. Pure: no I/O; large payloads
are handled around it by `large_payloads`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum, auto
from typing import Any

from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationRuntimeStatus,
    ParentInstance,
    TraceContext,
)
from durable.core.messages import TaskMessage
from durable.errors import MessageFormatError
from durable.storage.names import escape_key


class _Kind(Enum):
    STR = auto()
    INT = auto()
    TIME = auto()
    FAILURE = auto()
    PARENT = auto()
    TAGS = auto()
    STATUS = auto()
    TRACE = auto()


# (HistoryEvent attribute, DF column / JSON member name, kind). `execution_id` travels in an
# `OrchestrationInstance` member, as on DF's ExecutionStarted; the rest map one to one.
_FIELDS: tuple[tuple[str, str, _Kind], ...] = (
    ("name", "Name", _Kind.STR),
    ("version", "Version", _Kind.STR),
    ("input", "Input", _Kind.STR),
    ("result", "Result", _Kind.STR),
    ("reason", "Reason", _Kind.STR),
    ("details", "Details", _Kind.STR),
    ("data", "Data", _Kind.STR),
    ("failure_details", "FailureDetails", _Kind.FAILURE),
    ("task_scheduled_id", "TaskScheduledId", _Kind.INT),
    ("timer_id", "TimerId", _Kind.INT),
    ("fire_at", "FireAt", _Kind.TIME),
    ("instance_id", "InstanceId", _Kind.STR),
    ("parent", "ParentInstance", _Kind.PARENT),
    ("orchestration_status", "OrchestrationStatus", _Kind.STATUS),
    ("scheduled_start_time", "ScheduledStartTime", _Kind.TIME),
    ("tags", "Tags", _Kind.TAGS),
    ("message_id", "MessageId", _Kind.STR),
    ("trace_context", "ParentTraceContext", _Kind.TRACE),
)
_BASE_ATTRS = {"event_type", "timestamp", "event_id", "is_played", "execution_id"}
# Every HistoryEvent attribute the codecs carry; a test checks it against the dataclass.
ENCODED_ATTRIBUTES = frozenset(_BASE_ATTRS | {f[0] for f in _FIELDS})


def row_key(sequence: int) -> str:
    return f"{sequence:016X}"


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC: the core has no clock of its own to disagree."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def plain_utc(value: datetime) -> datetime:
    """The Tables SDK returns its own datetime subclass; callers get a plain aware datetime."""
    v = to_utc(value)
    return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, UTC)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _encode(kind: _Kind, value: Any, for_row: bool) -> Any:
    if kind is _Kind.TIME:
        utc = to_utc(value)
        return utc if for_row else utc.isoformat().replace("+00:00", "Z")
    if kind is _Kind.STATUS:
        return value.name if for_row else value.code
    if kind in (_Kind.FAILURE, _Kind.PARENT, _Kind.TRACE):
        obj = value.to_dict()
        return _dumps(obj) if for_row else obj
    if kind is _Kind.TAGS:
        return _dumps(value) if for_row else dict(value)
    return value


def _decode(kind: _Kind, value: Any, column: str) -> Any:
    if kind is _Kind.TIME:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        return plain_utc(parsed)
    if kind is _Kind.STATUS:
        if isinstance(value, str):
            return OrchestrationRuntimeStatus[value]
        return OrchestrationRuntimeStatus.from_code(int(value))
    if kind in (_Kind.FAILURE, _Kind.PARENT, _Kind.TAGS, _Kind.TRACE):
        obj = json.loads(value) if isinstance(value, str) else value
        if not isinstance(obj, dict):
            raise ValueError(f"{column} must be a JSON object, got {type(obj).__name__}")
        if kind is _Kind.FAILURE:
            return FailureDetails.from_dict(obj)
        if kind is _Kind.PARENT:
            return ParentInstance.from_dict(obj)
        if kind is _Kind.TRACE:
            return TraceContext.from_dict(obj)
        return {str(k): str(v) for k, v in obj.items()}
    if kind is _Kind.INT:
        return int(value)
    return str(value)


def _encode_fields(event: HistoryEvent, for_row: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, column, kind in _FIELDS:
        value = getattr(event, attr)
        if value is not None:
            out[column] = _encode(kind, value, for_row)
    if event.execution_id is not None:
        instance = {"InstanceId": event.instance_id, "ExecutionId": event.execution_id}
        out["OrchestrationInstance"] = _dumps(instance) if for_row else instance
    return out


def _decode_fields(source: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attr, column, kind in _FIELDS:
        raw = source.get(column)
        if raw is not None:
            values[attr] = _decode(kind, raw, column)
    instance = source.get("OrchestrationInstance")
    if instance is not None:
        obj = json.loads(instance) if isinstance(instance, str) else instance
        values["execution_id"] = obj.get("ExecutionId")
        if "instance_id" not in values and obj.get("InstanceId") is not None:
            values["instance_id"] = obj["InstanceId"]
    return values


# --- History table rows ---------------------------------------------------------------------


def event_to_entity(
    instance_id: str, execution_id: str, sequence: int, event: HistoryEvent
) -> dict[str, Any]:
    """A History row: DF's columns, plus our `MessageId` for inbound de-duplication."""
    entity: dict[str, Any] = {
        "PartitionKey": escape_key(instance_id),
        "RowKey": row_key(sequence),
        "ExecutionId": execution_id,
        "EventType": event.event_type.name,
        "EventId": event.event_id,
        "IsPlayed": event.is_played,
        "_Timestamp": to_utc(event.timestamp),
    }
    entity.update(_encode_fields(event, for_row=True))
    return entity


def entity_to_event(entity: dict[str, Any]) -> HistoryEvent:
    """Inverse of `event_to_entity`; offloaded properties must have been fetched already."""
    where = f"History row {entity.get('PartitionKey')!r}/{entity.get('RowKey')!r}"
    try:
        return HistoryEvent(
            event_type=EventType[entity["EventType"]],
            timestamp=plain_utc(entity["_Timestamp"]),
            event_id=int(entity.get("EventId", -1)),
            is_played=bool(entity.get("IsPlayed", False)),
            **_decode_fields(entity),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise MessageFormatError(
            f"{where} is not a history event this library wrote: {exc!r}"
        ) from exc


# --- queue message JSON ---------------------------------------------------------------------


def event_to_json_obj(event: HistoryEvent) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "EventType": int(event.event_type),
        "EventId": event.event_id,
        "IsPlayed": event.is_played,
        "Timestamp": _encode(_Kind.TIME, event.timestamp, for_row=False),
    }
    obj.update(_encode_fields(event, for_row=False))
    return obj


def event_from_json_obj(obj: dict[str, Any]) -> HistoryEvent:
    return HistoryEvent(
        event_type=EventType(int(obj["EventType"])),
        timestamp=_decode(_Kind.TIME, obj["Timestamp"], "Timestamp"),
        event_id=int(obj.get("EventId", -1)),
        is_played=bool(obj.get("IsPlayed", False)),
        **_decode_fields(obj),
    )


def message_to_json(message: TaskMessage, sequence_number: int = 0) -> str:
    """The envelope of DF's `MessageData`, minus the .NET `$type` annotations."""
    envelope: dict[str, Any] = {
        "ActivityId": message.message_id,
        "TaskMessage": {
            "Event": event_to_json_obj(message.event),
            "SequenceNumber": 0,
            "OrchestrationInstance": {
                "InstanceId": message.instance_id,
                "ExecutionId": message.execution_id,
            },
        },
        "CompressedBlobName": None,
        "SequenceNumber": sequence_number,
        "Sender": {"InstanceId": message.sender_instance_id, "ExecutionId": None},
    }
    if message.episode is not None:
        envelope["Episode"] = message.episode
    return _dumps(envelope)


def blob_wrapper_json(blob_name: str, message_id: str, sequence_number: int) -> str:
    """What the queue carries when the real message went to a blob."""
    return _dumps(
        {
            "ActivityId": message_id,
            "TaskMessage": None,
            "CompressedBlobName": blob_name,
            "SequenceNumber": sequence_number,
        }
    )


def parse_envelope(text: str) -> dict[str, Any]:
    try:
        envelope = json.loads(text)
    except ValueError as exc:
        raise MessageFormatError(
            f"queue message is not JSON: {exc}; body starts {text[:80]!r}"
        ) from None
    if not isinstance(envelope, dict):
        raise MessageFormatError(f"queue message is not a JSON object; body starts {text[:80]!r}")
    return envelope


def message_from_envelope(envelope: dict[str, Any]) -> TaskMessage:
    try:
        task = envelope["TaskMessage"]
        instance = task["OrchestrationInstance"]
        sender = envelope.get("Sender") or {}
        episode = envelope.get("Episode")
        return TaskMessage(
            message_id=str(envelope["ActivityId"]),
            instance_id=str(instance["InstanceId"]),
            event=event_from_json_obj(task["Event"]),
            execution_id=instance.get("ExecutionId"),
            sender_instance_id=sender.get("InstanceId"),
            episode=None if episode is None else int(episode),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise MessageFormatError(
            f"queue message is not a task message this library wrote: {exc!r}; "
            f"ActivityId={envelope.get('ActivityId')!r}"
        ) from exc
