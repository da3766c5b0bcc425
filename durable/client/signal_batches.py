"""Signals to one entity sent together as one queue message.

A client that signals an entity many times at once (a web front end counting visits, a
loader) would otherwise pay two queue operations per signal, which is what limits an
entity's throughput on Azure Storage. Here the first signal to an entity goes out at once;
signals to the same entity that are asked for while it is being sent wait for it and then
go out together, as one `ops` message carrying each request with its own message id. No
signal waits longer than one send, and each call returns only once its signal is queued.

The entity unpacks the message into the requests it carries; each keeps its own id and
names its predecessor, so de-duplication and in-order delivery work as for single signals.
A batch names as predecessor only what was sent successfully before it, so a send that
fails does not leave later signals waiting for a message that never comes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from durable.core.entities import BATCH_EVENT, EntityRequest

__all__ = ["BATCH_EVENT", "SignalBatcher"]

# One queue message is at most 45 KB of JSON; a batch stops well before that.
MAX_BATCH_BYTES = 32 * 1024
MAX_BATCH_SIZE = 500

Send = Callable[[str, str, str], Awaitable[None]]
"""send(target entity, message id, batch JSON)"""


@dataclass
class _Pending:
    message_id: str
    request: EntityRequest
    done: asyncio.Future[None]


@dataclass
class _Target:
    pending: list[_Pending] = field(default_factory=list)
    sending: bool = False
    last_sent: str | None = None


class SignalBatcher:
    """Per entity, one send in flight; what arrives meanwhile goes in the next one."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._targets: dict[str, _Target] = {}

    async def signal(self, target: str, message_id: str, request: EntityRequest) -> None:
        """Queue `request` for `target` and return once it is sent (raise if it was not)."""
        entry = self._targets.setdefault(target, _Target())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry.pending.append(_Pending(message_id, request, done))
        if not entry.sending:
            entry.sending = True
            asyncio.get_running_loop().create_task(self._flush(target, entry))
        await done

    async def _flush(self, target: str, entry: _Target) -> None:
        try:
            while entry.pending:
                batch = _take(entry.pending)
                members = []
                before = entry.last_sent
                for item in batch:
                    data = {"messageId": item.message_id,
                            **_with_predecessor(item.request, before).to_dict()}
                    members.append(data)
                    before = item.message_id
                try:
                    await self._send(target, batch[0].message_id, json.dumps(members))
                except Exception as exc:
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)
                    continue
                entry.last_sent = batch[-1].message_id
                for item in batch:
                    if not item.done.done():
                        item.done.set_result(None)
        finally:
            entry.sending = False


def _take(pending: list[_Pending]) -> list[_Pending]:
    size, count = 0, 0
    for item in pending:
        size += len(item.request.to_json()) + 64
        if count and (size > MAX_BATCH_BYTES or count >= MAX_BATCH_SIZE):
            break
        count += 1
    batch = pending[:count]
    del pending[:count]
    return batch


def _with_predecessor(request: EntityRequest, predecessor: str | None) -> EntityRequest:
    return EntityRequest(
        request.id, request.operation, request.signal, request.input, request.parent,
        request.parent_execution, request.due, request.lockset, request.position, predecessor,
    )
