"""The task hub's poison queues, for people looking at a hub (the dashboard).

The Functions queue trigger moves a message it failed `maxDequeueCount` times to
`{queue}-poison`. For a task hub these are `{hub}-control-NN-poison` and
`{hub}-workitems-poison`; nothing reads them again, so someone has to look at them and
delete what they no longer want. Queue storage can only peek (no pop receipt) or receive
(hidden for a while), so deleting one message by id receives a batch, deletes the one asked
for and makes the others visible again at once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueMessage

from durable.storage.queues import TaskHubQueues
from durable.storage.transport import storage_call

POISON_SUFFIX = "-poison"
PEEK_LIMIT = 32  # Queue storage's maximum per peek or receive
# Seconds the other messages of a received batch would stay hidden if releasing them failed.
_HIDE_SECONDS = 30
_SEARCH_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class PoisonMessage:
    """One message of a poison queue as people read it."""

    message_id: str
    inserted_on: datetime | None
    dequeue_count: int
    content: Any

    def to_json(self) -> dict[str, Any]:
        """The dashboard's JSON shape."""
        return {
            "id": self.message_id,
            "insertedOn": self.inserted_on.isoformat() if self.inserted_on else None,
            "dequeueCount": self.dequeue_count,
            "content": self.content,
        }


def poison_queue_names(queues: TaskHubQueues) -> list[str]:
    """The poison queue of every hub queue, whether or not it exists yet."""
    return [n + POISON_SUFFIX for n in (*queues.control_queue_names, queues.work_item_queue_name)]


def readable(body: str | bytes) -> Any:
    """A message body as JSON when it is JSON (raw or base64 of it, DF's encodings), else text."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    candidates = [text.strip()]
    with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
        candidates.append(base64.b64decode(text, validate=True).decode("utf-8"))
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return text


@storage_call
async def poison_depths(queues: TaskHubQueues) -> dict[str, int]:
    """Messages waiting in each poison queue that exists (a missing one is left out)."""
    depths: dict[str, int] = {}
    for name in poison_queue_names(queues):
        try:
            props = await queues.client(name).get_queue_properties()
        except ResourceNotFoundError:
            continue
        depths[name] = int(props.approximate_message_count or 0)
    return depths


@storage_call
async def peek_poison(queues: TaskHubQueues, queue_name: str) -> list[PoisonMessage]:
    """The first messages of a poison queue (at most `PEEK_LIMIT`), without hiding them."""
    _check_name(queues, queue_name)
    try:
        peeked = await queues.client(queue_name).peek_messages(max_messages=PEEK_LIMIT)
    except ResourceNotFoundError:
        return []
    return [
        PoisonMessage(m.id, m.inserted_on, int(m.dequeue_count or 0), readable(m.content))
        for m in peeked
    ]


@storage_call
async def delete_poison(queues: TaskHubQueues, queue_name: str, message_id: str) -> bool:
    """Delete one message of a poison queue by id; False when it is not there (any more).

    Batches are received (hidden) until the message turns up or the queue has no more; the
    others are then made visible again at once."""
    _check_name(queues, queue_name)
    client = queues.client(queue_name)
    held: list[QueueMessage] = []
    found = False
    try:
        for _ in range(_SEARCH_ROUNDS):
            batch = [
                m
                async for m in client.receive_messages(
                    messages_per_page=PEEK_LIMIT, max_messages=PEEK_LIMIT,
                    visibility_timeout=_HIDE_SECONDS,
                )
            ]
            match = next((m for m in batch if m.id == message_id), None)
            held.extend(m for m in batch if m is not match)
            if match is not None:
                await client.delete_message(match.id, match.pop_receipt)
                found = True
            if found or not batch:
                break
    except ResourceNotFoundError:
        return False
    finally:
        for message in held:
            await client.update_message(message.id, message.pop_receipt, visibility_timeout=0)
    return found


def _check_name(queues: TaskHubQueues, queue_name: str) -> None:
    if queue_name.lower() not in poison_queue_names(queues):
        known = ", ".join(poison_queue_names(queues))
        raise ValueError(f"{queue_name!r} is not a poison queue of this task hub (known: {known}).")
