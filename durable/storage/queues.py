"""Control and work-item queues: send task messages, decode received bodies.

Bodies are base64 of UTF-8 JSON because that is what the Azure Functions queue trigger
decodes by default; the reader also accepts raw JSON (DT.AzureStorage 2.x writes that).
In production the Functions host receives; `receive`/`renew`/`delete` serve tests and tools.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import itertools
import json
import math
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.errors import MessageFormatError
from durable.storage import codec
from durable.storage.interface import OutboundMessage, ReceivedMessage
from durable.storage.large_payloads import (
    QUEUE_MESSAGE_LIMIT,
    LargePayloadStore,
    message_blob_name,
)
from durable.storage.names import control_queue_name, work_item_queue_name
from durable.storage.partitions import partition_index
from durable.storage.settings import QUEUE_MAX_VISIBILITY
from durable.storage.transport import storage_call

MAX_VISIBILITY_DELAY = QUEUE_MAX_VISIBILITY
DEFAULT_VISIBILITY_TIMEOUT = timedelta(minutes=5)
MAX_RECEIVE_BATCH = 32
_SEND_CONCURRENCY = 64
# How often a body was sent again by `requeue` after its handler failed (an envelope member
# readers ignore).
REQUEUED_MEMBER = "Requeued"
# Ties between messages inserted in the same instant are broken by this, as in DF.
_sequence = itertools.count(1)


def delay_seconds(delay: timedelta | None) -> int:
    """Whole seconds, rounded up: a timer must never fire early."""
    if delay is None or delay <= timedelta(0):
        return 0
    if delay > MAX_VISIBILITY_DELAY:
        raise ValueError(
            f"delay {delay} exceeds the queue's maximum visibility delay of "
            f"{MAX_VISIBILITY_DELAY}; chain the timer in shorter steps"
        )
    return math.ceil(delay.total_seconds())


def _body_text(body: str | bytes) -> str:
    """Raw JSON when it starts with `{`, base64 of UTF-8 JSON otherwise (DF's rule)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        text = text.strip()
        if text.startswith("{"):
            return text
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        start = body[:80]
        raise MessageFormatError(
            f"queue message body is neither JSON nor base64 of JSON: {exc}; starts {start!r}"
        ) from None


def requeue_count(envelope: dict[str, Any]) -> int:
    value = envelope.get(REQUEUED_MEMBER)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _error_code(exc: HttpResponseError) -> str:
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


class TaskHubQueues:
    def __init__(
        self,
        service: QueueServiceClient,
        hub_name: str,
        partition_count: int,
        payloads: LargePayloadStore,
    ) -> None:
        self._service = service
        self._partition_count = partition_count
        self._payloads = payloads
        self.control_queue_names = [control_queue_name(hub_name, i) for i in range(partition_count)]
        self.work_item_queue_name = work_item_queue_name(hub_name)
        self._clients: dict[str, QueueClient] = {}

    @property
    def endpoint(self) -> str:
        return str(self._service.url)

    def client(self, queue_name: str) -> QueueClient:
        """The SDK client of one hub queue, for tools and test harnesses that act like the
        Functions host (raw bodies, pop receipts); the runtime needs only the methods below."""
        if queue_name not in self._clients:
            self._clients[queue_name] = self._service.get_queue_client(queue_name)
        return self._clients[queue_name]

    def control_queue_for(self, instance_id: str) -> str:
        return self.control_queue_names[partition_index(instance_id, self._partition_count)]

    def queue_for(self, message: TaskMessage) -> str:
        """Activity work (TaskScheduled) goes to the work-item queue; everything else to the
        control queue of the addressed instance, as in DF's message catalogue."""
        if message.event.event_type is EventType.TaskScheduled:
            return self.work_item_queue_name
        return self.control_queue_for(message.instance_id)

    async def encode(self, message: TaskMessage) -> str:
        """The base64 body; a message over the size limit goes to a blob first."""
        sequence = next(_sequence)
        text = codec.message_to_json(message, sequence)
        if len(text.encode("utf-8")) > QUEUE_MESSAGE_LIMIT:
            name = message_blob_name(
                message.instance_id, message.message_id, message.event.event_type.name
            )
            await self._payloads.upload(name, text)
            text = codec.blob_wrapper_json(name, message.message_id, sequence)
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    async def decode(self, body: str | bytes) -> TaskMessage:
        message, _ = await self._decode(body)
        return message

    async def _decode(self, body: str | bytes) -> tuple[TaskMessage, int]:
        envelope = codec.parse_envelope(_body_text(body))
        blob = envelope.get("CompressedBlobName")
        if blob:
            text = await self._payloads.download(self._payloads.blob_name_from_reference(blob))
            envelope = codec.parse_envelope(text)
        sequence = envelope.get("SequenceNumber")
        return codec.message_from_envelope(envelope), int(sequence or 0)

    @storage_call
    async def requeue(self, body: str | bytes, message: TaskMessage, *, failed: bool) -> int:
        """Send a received body again as a new queue message (its dequeue count starts over);
        the envelope counts the sends that followed a failure of its handler (`failed`), and
        that count is returned. Same message id, so the receiver de-duplicates as for any
        redelivery."""
        envelope = codec.parse_envelope(_body_text(body))
        envelope[REQUEUED_MEMBER] = requeue_count(envelope) + (1 if failed else 0)
        text = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
        await self.client(self.queue_for(message)).send_message(
            base64.b64encode(text.encode("utf-8")).decode("ascii"), time_to_live=-1
        )
        return int(envelope[REQUEUED_MEMBER])

    def requeued_times(self, body: str | bytes) -> int:
        return requeue_count(codec.parse_envelope(_body_text(body)))

    @storage_call
    async def send(self, message: TaskMessage, *, delay: timedelta | None = None) -> str:
        """Send with infinite TTL; returns the queue it went to."""
        seconds = delay_seconds(delay)
        queue_name = self.queue_for(message)
        body = await self.encode(message)
        await self.client(queue_name).send_message(
            body, visibility_timeout=seconds or None, time_to_live=-1
        )
        return queue_name

    @storage_call
    async def send_leased(self, message: TaskMessage, *, delay: timedelta) -> ReceivedMessage:
        """Send a message hidden for `delay` and keep the handle to renew or delete it.

        The sender holds the message as if it had received it: it can do the work itself
        right away and delete the message after, while the queued copy stays the durable
        fallback that any host picks up should the sender die first.
        """
        seconds = delay_seconds(delay)
        if not seconds:
            raise ValueError("a leased message needs a visibility delay of at least 1 s")
        queue_name = self.queue_for(message)
        body = await self.encode(message)
        sent = await self.client(queue_name).send_message(
            body, visibility_timeout=seconds, time_to_live=-1
        )
        return ReceivedMessage(
            message=message,
            queue_name=queue_name,
            queue_message_id=str(sent.id),
            pop_receipt=str(sent.pop_receipt),
            dequeue_count=0,
            inserted_on=sent.inserted_on,
            sequence_number=0,
        )

    async def send_many(self, messages: Iterable[OutboundMessage]) -> None:
        """Send concurrently (an episode's outbox); the first failure is raised after all ran."""
        items = list(messages)
        for item in items:
            delay_seconds(item.delay)  # reject a bad delay before anything is sent
        gate = asyncio.Semaphore(_SEND_CONCURRENCY)

        async def one(item: OutboundMessage) -> None:
            async with gate:
                await self.send(item.message, delay=item.delay)

        results = await asyncio.gather(*(one(i) for i in items), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    @storage_call
    async def receive(
        self,
        queue_name: str,
        *,
        max_messages: int = MAX_RECEIVE_BATCH,
        visibility_timeout: timedelta = DEFAULT_VISIBILITY_TIMEOUT,
    ) -> list[ReceivedMessage]:
        """One receive request (at most 32 messages)."""
        if not 1 <= max_messages <= MAX_RECEIVE_BATCH:
            raise ValueError(f"max_messages must be 1..{MAX_RECEIVE_BATCH}, got {max_messages}")
        pager = self.client(queue_name).receive_messages(
            messages_per_page=max_messages,
            visibility_timeout=max(1, math.ceil(visibility_timeout.total_seconds())),
        )
        raw: list[Any] = []
        async for page in pager.by_page():
            raw = [m async for m in page]
            break
        out = []
        for m in raw:
            message, sequence = await self._decode(m.content)
            out.append(
                ReceivedMessage(
                    message=message,
                    queue_name=queue_name,
                    queue_message_id=m.id,
                    pop_receipt=m.pop_receipt,
                    dequeue_count=m.dequeue_count,
                    inserted_on=m.inserted_on,
                    sequence_number=sequence,
                )
            )
        return out

    @storage_call
    async def renew(
        self, received: ReceivedMessage, visibility_timeout: timedelta
    ) -> ReceivedMessage | None:
        """Extend the lease on a received message, with the new pop receipt; None when the
        lease was already lost (message deleted or received by someone else)."""
        try:
            updated = await self.client(received.queue_name).update_message(
                received.queue_message_id,
                received.pop_receipt,
                visibility_timeout=max(0, math.ceil(visibility_timeout.total_seconds())),
            )
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code == 400 and _error_code(exc) == "PopReceiptMismatch":
                return None
            raise
        return dataclasses.replace(received, pop_receipt=str(updated.pop_receipt))

    @storage_call
    async def delete(self, received: ReceivedMessage) -> bool:
        """False when the message was already gone, or its lease moved on (renewed, or
        received again after the visibility timeout): then someone else owns it."""
        try:
            await self.client(received.queue_name).delete_message(
                received.queue_message_id, received.pop_receipt
            )
            return True
        except ResourceNotFoundError:
            return False
        except HttpResponseError as exc:
            if exc.status_code == 400 and _error_code(exc) == "PopReceiptMismatch":
                return False
            raise

    @storage_call
    async def approximate_counts(self) -> dict[str, int]:
        """Messages waiting per queue (a cheap progress/scale signal; approximate by design)."""
        names = [*self.control_queue_names, self.work_item_queue_name]
        props = await asyncio.gather(*(self.client(n).get_queue_properties() for n in names))
        return {n: int(p.approximate_message_count or 0) for n, p in zip(names, props, strict=True)}
