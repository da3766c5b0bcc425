"""The SDK's orchestration-trigger JSON, read into our history model.

The Durable extension hands a Python orchestrator `{"history": [...], "instanceId",
"isReplaying", "parentInstanceId", "input", "upperSchemaVersion", ...}`; the SDK's
`DurableOrchestrationContext.from_json` reads it, and its unit tests build such JSON with a
context builder. History events there use Durable Task's member names (`EventType` as a
number, `EventId`, `IsPlayed`, `Timestamp`, `Name`, `Input`, `Result`, `TaskScheduledId`,
`TimerId`, `FireAt`, `Reason`, `Details`, ...). Keys this module does not know are kept as
the SDK keeps them: in the context's `function_context`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from durable.core.history import EventType, HistoryEvent, ParentInstance
from durable.core.sdk_actions import ReplaySchema
from durable.errors import DurableError, FailureDetails


class SdkPayloadError(DurableError):
    """The orchestration-trigger JSON could not be read (what is wrong is in the message)."""


class HistoryEventType(IntEnum):
    """The SDK's names for Durable Task's history event numbers."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_INSTANCE_CREATED = 7
    SUB_ORCHESTRATION_INSTANCE_COMPLETED = 8
    SUB_ORCHESTRATION_INSTANCE_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC_EVENT = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20


_FAILURES = frozenset({EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed})
# The context JSON's own keys; every other key goes to `function_context`.
_CONTEXT_KEYS = frozenset(
    {"history", "instanceId", "isReplaying", "parentInstanceId", "input", "upperSchemaVersion",
     "upperSchemaVersionNew"}
)


@dataclass
class SdkInvocation:
    """One orchestration-trigger payload, read."""

    instance_id: str
    history: list[HistoryEvent]
    is_replaying: bool = False
    parent_instance_id: str | None = None
    input_json: str | None = None
    replay_schema: ReplaySchema = ReplaySchema.V1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def started_at(self) -> datetime:
        """The first OrchestratorStarted's time: the context's `current_utc_datetime`."""
        for event in self.history:
            if event.event_type is EventType.OrchestratorStarted:
                return event.timestamp
        return self.history[0].timestamp if self.history else datetime(1, 1, 1, tzinfo=UTC)

    @property
    def parent(self) -> ParentInstance | None:
        """The parent, as our history names it, for a sub-orchestration."""
        if not self.parent_instance_id:
            return None
        return ParentInstance("", self.parent_instance_id, "", -1)


def parse_invocation(json_string: str | Mapping[str, Any]) -> SdkInvocation:
    """Read the orchestration-trigger JSON (text, or already parsed)."""
    data = _object(json_string)
    history = data.get("history")
    if not isinstance(history, list):
        raise SdkPayloadError(
            "The orchestration context JSON has no 'history' list; it is the payload of an "
            "orchestration trigger: {\"history\": [...], \"instanceId\": ..., ...}."
        )
    events = [parse_event(item, index) for index, item in enumerate(history)]
    input_json = _json_text(data.get("input"))
    events = _with_input(events, input_json)
    schema = int(data.get("upperSchemaVersionNew") or data.get("upperSchemaVersion") or 0)
    return SdkInvocation(
        instance_id=str(data.get("instanceId") or ""),
        history=events,
        is_replaying=bool(data.get("isReplaying")),
        parent_instance_id=data.get("parentInstanceId") or None,
        input_json=input_json,
        replay_schema=ReplaySchema.V2 if schema >= 1 else ReplaySchema.V1,
        extra={k: v for k, v in data.items() if k not in _CONTEXT_KEYS},
    )


def parse_event(item: object, index: int = 0) -> HistoryEvent:
    """One history event of the SDK's JSON as our `HistoryEvent`."""
    if not isinstance(item, Mapping):
        raise SdkPayloadError(f"history[{index}] is not an object: {item!r}")
    try:
        kind = EventType(int(item["EventType"]))
        timestamp = parse_time(item["Timestamp"])
    except (KeyError, ValueError, TypeError) as exc:
        raise SdkPayloadError(
            f"history[{index}] needs a known 'EventType' number and a 'Timestamp': {exc}"
        ) from None
    fields: dict[str, Any] = {}
    for key, (name, read) in _FIELDS.items():
        if item.get(key) is not None:
            fields[name] = read(item[key])
    instance = item.get("OrchestrationInstance")
    if isinstance(instance, Mapping):
        fields.setdefault("instance_id", instance.get("InstanceId"))
        fields["execution_id"] = instance.get("ExecutionId")
    if kind in _FAILURES and "reason" in fields:
        # The SDK's message for a failed task: the reason, then the details.
        message = fields["reason"] if "details" not in fields else (
            f"{fields['reason']} \n {fields['details']}")
        fields["failure_details"] = FailureDetails("Exception", message, fields.get("details"))
    event_id = item.get("EventId")
    return HistoryEvent(
        kind,
        timestamp,
        event_id=int(event_id) if event_id is not None else -1,
        is_played=bool(item.get("IsPlayed")),
        **fields,
    )


def parse_time(value: object) -> datetime:
    """A timestamp of the SDK's JSON (ISO 8601, `Z` or an offset; naive is UTC)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _object(json_string: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(json_string, Mapping):
        return json_string
    try:
        data = json.loads(json_string)
    except (TypeError, ValueError) as exc:
        raise SdkPayloadError(f"The orchestration context is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise SdkPayloadError("The orchestration context JSON must be an object.")
    return data


def _json_text(value: object) -> str | None:
    """The SDK keeps payloads as JSON text; a dict or list given instead is encoded."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _with_input(events: list[HistoryEvent], input_json: str | None) -> list[HistoryEvent]:
    """The context's `input` is the ExecutionStarted input when the event has none."""
    if input_json is None:
        return events
    return [
        e.replace(input=input_json)
        if e.event_type is EventType.ExecutionStarted and e.input is None else e
        for e in events
    ]


def _int(value: object) -> int:
    return int(value)  # type: ignore[call-overload,no-any-return]


# SDK JSON key -> (our field, how to read it).
_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "Name": ("name", str),
    "Version": ("version", str),
    "Input": ("input", _json_text),
    "Result": ("result", _json_text),
    "Reason": ("reason", str),
    "Details": ("details", str),
    "TaskScheduledId": ("task_scheduled_id", _int),
    "TimerId": ("timer_id", _int),
    "FireAt": ("fire_at", parse_time),
    "InstanceId": ("instance_id", str),
}


class FunctionContext:
    """Function-level attributes of the trigger payload that durable itself does not use
    (the SDK's `context.function_context`): each unknown key becomes an attribute."""

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"FunctionContext({vars(self)!r})"


def history_to_string(event: HistoryEvent) -> str:
    """One history event as JSON text of its set fields (what the SDK prints a history
    with, for logs and error reports)."""
    out: dict[str, Any] = {}
    for name in HistoryEvent.__dataclass_fields__:
        value = getattr(event, name)
        if value is None or name == "tags":
            continue
        if isinstance(value, datetime):
            value = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif isinstance(value, IntEnum):
            value = value.name
        elif hasattr(value, "to_dict"):
            value = value.to_dict()
        out[name] = value
    return json.dumps(out)
