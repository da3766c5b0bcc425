"""The SDK's history classes (`azure.durable_functions.models.history`).

`HistoryEventType` names Durable Task's event numbers. `HistoryEvent` is the SDK's object
for one event of the orchestration-trigger JSON: the SDK's own unit tests build histories
out of it. Here `to_json()` turns one back into that JSON, so such a history can be fed to
`DurableOrchestrationContext.from_json`; the replay engine itself reads events into
`durable.core.history.HistoryEvent`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from durable.core.sdk_json import HistoryEventType, parse_time

__all__ = ["HistoryEvent", "HistoryEventType"]

# The attributes every SDK HistoryEvent has, None unless given.
_OPTIONAL = ("Name", "InstanceId", "TaskScheduledId", "Reason", "Details", "Input")


class HistoryEvent:
    """One history event as the SDK holds it: the trigger JSON's member names as arguments.

    `EventType`, `EventId`, `IsPlayed` and `Timestamp` (ISO text, or a datetime) are read
    into the properties `event_type`, `event_id`, `is_played` and `timestamp`; every other
    keyword argument (`Name`, `Input`, `Result`, `TaskScheduledId`, `FireAt`, ...) becomes
    an attribute of that name, and the usual ones are None when not given.
    """

    # The parameter names are the JSON's, as in the SDK.
    def __init__(
        self,
        EventType: HistoryEventType | int,
        EventId: int,
        IsPlayed: bool,
        Timestamp: str | datetime,
        **kwargs: Any,
    ) -> None:
        self._event_type = HistoryEventType(EventType)
        self._event_id = EventId
        self._is_played = IsPlayed
        self._timestamp = parse_time(Timestamp)
        self._is_processed = False
        for name in _OPTIONAL:
            setattr(self, name, None)
        for key, value in kwargs.items():
            setattr(self, key, value)

    @property
    def event_type(self) -> HistoryEventType:
        """What happened (Durable Task's event number, by the SDK's name)."""
        return self._event_type

    @property
    def event_id(self) -> int:
        """The event's sequence number (-1 for events that have none)."""
        return self._event_id

    @property
    def is_played(self) -> bool:
        """Whether an earlier episode already saw the event (replaying it)."""
        return self._is_played

    @property
    def is_processed(self) -> bool:
        """The SDK replay engine's mark for an event it has handled (False when made)."""
        return self._is_processed

    @is_processed.setter
    def is_processed(self, value: bool) -> None:
        self._is_processed = value

    @property
    def timestamp(self) -> datetime:
        """When the event happened (UTC)."""
        return self._timestamp

    def to_json(self) -> dict[str, Any]:
        """The event as the orchestration-trigger JSON writes it (attributes left None are
        left out), for `DurableOrchestrationContext.from_json({"history": [...]})`."""
        body: dict[str, Any] = {
            "EventType": int(self._event_type),
            "EventId": self._event_id,
            "IsPlayed": self._is_played,
            "Timestamp": self._timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        for key, value in vars(self).items():
            if not key.startswith("_") and value is not None:
                body[key] = value.isoformat() if isinstance(value, datetime) else value
        return body

    @classmethod
    def from_json(cls, json_obj: dict[str, Any]) -> HistoryEvent:
        """One event of the trigger JSON's `history` list, read back."""
        return cls(**json_obj)

    def __repr__(self) -> str:
        return f"HistoryEvent({self._event_type.name}, event_id={self._event_id})"
