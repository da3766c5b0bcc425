"""The persisted state of an entity: Durable Functions' `SchedulerState`, plus what this
library needs to apply every message exactly once.

`exists`, `state` (the user's state as JSON text), `queue` (requests waiting for a lock) and
`lockedBy` keep Durable Functions' member names, so tools that read an entity's Instances
row (its `Input` column) find them where they expect. `received` is the de-duplication
record: for each sender, the sequence numbers of the messages already applied, as ranges,
and when the sender was last heard from. Message ids are `{sender}:{sequence}:{tag}`
(orchestrations: execution id, event number, event type; clients: client id, counter,
`c`; entities: entity id, counter, `e`), so a sender that sends many messages costs a few
numbers, not a list of ids. A sender silent for longer than the reorder window is
forgotten, as Durable Functions forgets its message sorter's entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable.core.entities import EntityRequest
from durable.errors import SerializationError

# Durable Functions' entityMessageReorderWindowInMinutes default.
DEFAULT_REORDER_WINDOW = timedelta(minutes=30)


def message_key(message_id: str) -> tuple[str, int]:
    """(sender, sequence number) of a message id; an id of another shape is its own sender."""
    parts = message_id.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return f"{parts[0]}:{parts[2]}", int(parts[1])
    return message_id, 0


@dataclass
class SenderRecord:
    """The sequence numbers applied from one sender, as sorted disjoint ranges."""

    last_seen: float
    ranges: list[list[int]] = field(default_factory=list)

    def contains(self, sequence: int) -> bool:
        """Whether `sequence` was applied."""
        return any(lo <= sequence <= hi for lo, hi in self.ranges)

    def add(self, sequence: int) -> None:
        """Record `sequence` as applied, merging adjacent ranges."""
        ranges = [*self.ranges, [sequence, sequence]]
        ranges.sort()
        merged: list[list[int]] = []
        for lo, hi in ranges:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self.ranges = merged


@dataclass
class SchedulerState:
    """Everything an entity keeps between batches (see the module docstring)."""

    exists: bool = False
    state: str | None = None
    queue: list[EntityRequest] = field(default_factory=list)
    locked_by: str | None = None
    lock_id: str | None = None
    received: dict[str, SenderRecord] = field(default_factory=dict)
    # How many messages this entity has sent: the sequence numbers of its own outbox.
    sent: int = 0
    # Requests that arrived before their predecessor: (message id, request, arrival time).
    held: list[tuple[str, EntityRequest, float]] = field(default_factory=list)
    # Entity -> [number of the last message this entity sent it, when], for predecessors.
    last_sent_to: dict[str, list[float]] = field(default_factory=dict)

    def has_applied(self, message_id: str) -> bool:
        """Whether the message with this id was applied (or is held) already: a redelivery."""
        return self.was_processed(message_id) or any(m == message_id for m, _, _ in self.held)

    def was_processed(self, message_id: str) -> bool:
        """Whether the message with this id was applied."""
        sender, sequence = message_key(message_id)
        record = self.received.get(sender)
        return record is not None and record.contains(sequence)

    def record(self, message_id: str, now: datetime) -> None:
        """Remember that the message was applied."""
        sender, sequence = message_key(message_id)
        record = self.received.setdefault(sender, SenderRecord(now.timestamp()))
        record.add(sequence)
        record.last_seen = now.timestamp()

    def forget_older_than(self, horizon: datetime) -> None:
        """Drop senders silent since before `horizon` (the reorder window has passed)."""
        cutoff = horizon.timestamp()
        self.received = {k: r for k, r in self.received.items() if r.last_seen >= cutoff}
        self.last_sent_to = {k: v for k, v in self.last_sent_to.items() if v[1] >= cutoff}

    @property
    def is_empty(self) -> bool:
        """No state, no lock, nothing waiting: what clean-up may remove."""
        return not self.exists and not self.queue and self.locked_by is None

    def to_json(self) -> str:
        """The JSON the entity's history and Instances row keep."""
        data: dict[str, Any] = {"exists": self.exists}
        if self.state is not None:
            data["state"] = self.state
        if self.queue:
            data["queue"] = [r.to_dict() for r in self.queue]
        if self.locked_by is not None:
            data["lockedBy"] = self.locked_by
            data["lockId"] = self.lock_id
        if self.received:
            data["received"] = {k: [r.last_seen, r.ranges] for k, r in self.received.items()}
        if self.sent:
            data["sent"] = self.sent
        if self.held:
            data["held"] = [[m, r.to_dict(), t] for m, r, t in self.held]
        if self.last_sent_to:
            data["lastSentTo"] = self.last_sent_to
        return json.dumps(data, separators=(",", ":"))

    @staticmethod
    def from_json(text: str | None) -> SchedulerState:
        """Read what `to_json` wrote (None or empty: a new entity)."""
        if not text:
            return SchedulerState()
        try:
            data = json.loads(text)
            received = {
                str(k): SenderRecord(float(v[0]), [[int(lo), int(hi)] for lo, hi in v[1]])
                for k, v in (data.get("received") or {}).items()
            }
            return SchedulerState(
                exists=bool(data.get("exists", False)),
                state=data.get("state"),
                queue=[EntityRequest.from_json(json.dumps(r)) for r in data.get("queue") or []],
                locked_by=data.get("lockedBy"),
                lock_id=data.get("lockId"),
                received=received,
                sent=int(data.get("sent") or 0),
                held=[
                    (str(m), EntityRequest.from_json(json.dumps(r)), float(t))
                    for m, r, t in data.get("held") or []
                ],
                last_sent_to={
                    str(k): [float(v[0]), float(v[1])]
                    for k, v in (data.get("lastSentTo") or {}).items()
                },
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SerializationError(f"Entity scheduler state is not valid: {exc!r}") from exc
