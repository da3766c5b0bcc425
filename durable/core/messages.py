"""Task messages: what travels on the control and work-item queues.

A message carries one history event to one instance. `message_id` is unique per logical
message and stays the same when a message is re-sent (outbox recovery, timer chaining),
which is what lets the receiver de-duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

from durable.core.history import HistoryEvent


@dataclass(frozen=True, slots=True)
class TaskMessage:
    message_id: str
    instance_id: str
    event: HistoryEvent
    # The execution the event belongs to; None for messages addressed to whatever execution
    # is current (raise event, terminate, suspend, resume), as Durable Task does.
    execution_id: str | None = None
    # The episode of the sender that produced this message, for tracing and outbox recovery.
    sender_instance_id: str | None = None
    episode: int | None = None
