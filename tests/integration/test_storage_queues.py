"""Queues on Azurite: routing, base64 bodies, large messages, visibility delays, leases."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import timedelta

import pytest
from azure.storage.queue.aio import QueueClient

from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.errors import MessageFormatError
from durable.storage import OutboundMessage, ReceivedMessage, TaskHub, codec
from tests.support.events import at, sample_events

pytestmark = pytest.mark.azurite


def _message(event_type: EventType = EventType.EventRaised, **fields: object) -> TaskMessage:
    event = HistoryEvent(event_type, at(0), name="n", **fields)  # type: ignore[arg-type]
    return TaskMessage(message_id="m-" + event_type.name, instance_id="inst-1", event=event)


async def _receive_until(
    hub: TaskHub, queue: str, count: int, timeout: float = 20.0
) -> list[ReceivedMessage]:
    """Poll (the only way to observe a queue) until `count` messages came, or fail."""
    deadline = time.monotonic() + timeout
    got: list[ReceivedMessage] = []
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} messages in {timeout} s"
        batch = await hub.queues.receive(queue, visibility_timeout=timedelta(minutes=5))
        got += batch
        if not batch:
            await asyncio.sleep(0.2)
    return got


async def _raw_bodies(connection_string: str, queue: str) -> list[str]:
    async with QueueClient.from_connection_string(connection_string, queue) as client:
        return [str(m.content) for m in await client.peek_messages(max_messages=32)]


async def test_routing_and_base64_bodies(hub: TaskHub, connection_string: str) -> None:
    scheduled = _message(EventType.TaskScheduled)
    raised = _message(EventType.EventRaised)
    assert await hub.queues.send(scheduled) == hub.queues.work_item_queue_name
    control = await hub.queues.send(raised)
    assert control == hub.queues.control_queue_for("inst-1")
    assert control.startswith(hub.hub_name.lower() + "-control-0")
    (body,) = await _raw_bodies(connection_string, control)
    envelope = json.loads(base64.b64decode(body))
    assert envelope["ActivityId"] == raised.message_id
    assert envelope["TaskMessage"]["Event"]["EventType"] == int(EventType.EventRaised)
    (got,) = await _receive_until(hub, control, 1)
    assert got.message == raised and got.dequeue_count == 1
    (work,) = await _receive_until(hub, hub.queues.work_item_queue_name, 1)
    assert work.message == scheduled


async def test_decode_accepts_raw_json_and_base64(hub: TaskHub, connection_string: str) -> None:
    message = TaskMessage("m", "inst-1", sample_events()[1], "exec-1", "parent", 2)
    text = codec.message_to_json(message)
    assert await hub.queues.decode(text) == message
    assert await hub.queues.decode(base64.b64encode(text.encode()).decode()) == message
    assert await hub.queues.decode(text.encode()) == message
    queue = hub.queues.control_queue_for("inst-1")
    async with QueueClient.from_connection_string(connection_string, queue) as client:
        await client.send_message(text)  # a raw-JSON writer such as DT.AzureStorage 2.x
    (got,) = await _receive_until(hub, queue, 1)
    assert got.message == message
    for bad in ("not base64 !!", base64.b64encode(b"[1, 2]").decode(), "{broken"):
        with pytest.raises(MessageFormatError):
            await hub.queues.decode(bad)


async def test_five_megabyte_message_goes_through_a_blob(
    hub: TaskHub, connection_string: str
) -> None:
    payload = json.dumps("".join(f"{i:08x}" for i in range(5 * 1024 * 1024 // 8)))
    message = _message(EventType.EventRaised, input=payload)
    queue = await hub.queues.send(message)
    (body,) = await _raw_bodies(connection_string, queue)
    assert len(body) < 1024
    wrapper = json.loads(base64.b64decode(body))
    assert wrapper["TaskMessage"] is None
    assert wrapper["CompressedBlobName"] == "inst-1/message-m-EventRaised-EventRaised.json.gz"
    (got,) = await _receive_until(hub, queue, 1)
    assert got.message == message
    assert await hub.payloads.list_instance_blobs("inst-1") == [wrapper["CompressedBlobName"]]
    await hub.purge_instance("inst-1")
    assert await hub.payloads.list_instance_blobs("inst-1") == []


async def test_message_just_under_the_limit_stays_inline(hub: TaskHub) -> None:
    message = _message(input='"' + "a" * (40 * 1024) + '"')
    queue = await hub.queues.send(message)
    assert await hub.payloads.list_instance_blobs("inst-1") == []
    (got,) = await _receive_until(hub, queue, 1)
    assert got.message == message


async def test_delayed_message_is_hidden_until_due(hub: TaskHub) -> None:
    message = _message(EventType.TimerFired, timer_id=0, fire_at=at(2))
    sent = time.monotonic()
    queue = await hub.queues.send(message, delay=timedelta(seconds=2))
    assert await hub.queues.receive(queue) == []
    (got,) = await _receive_until(hub, queue, 1)
    assert time.monotonic() - sent >= 1.5
    assert got.message == message


async def test_delay_limits(hub: TaskHub) -> None:
    with pytest.raises(ValueError, match="maximum visibility delay"):
        await hub.queues.send(_message(), delay=timedelta(days=7, seconds=1))
    # Sub-second delays round up to one second rather than firing early.
    queue = await hub.queues.send(_message(), delay=timedelta(milliseconds=10))
    assert await hub.queues.receive(queue) == []
    assert len(await _receive_until(hub, queue, 1)) == 1


async def test_send_many_concurrently(hub: TaskHub) -> None:
    out = [
        OutboundMessage(
            TaskMessage(f"m{i}", f"inst-{i}", HistoryEvent(EventType.EventRaised, at(i), name="e"))
        )
        for i in range(60)
    ]
    hub.reset_request_counts()
    await hub.queues.send_many(out)
    assert hub.request_counts == {"queue.send": 60}
    got: list[ReceivedMessage] = []
    for queue in hub.queues.control_queue_names:
        expected = sum(hub.queues.queue_for(o.message) == queue for o in out)
        got += await _receive_until(hub, queue, expected)
    assert sorted(g.message.message_id for g in got) == sorted(o.message.message_id for o in out)
    counts = await hub.queues.approximate_counts()
    assert set(counts) == {*hub.queues.control_queue_names, hub.queues.work_item_queue_name}


async def test_renew_and_delete(hub: TaskHub) -> None:
    queue = await hub.queues.send(_message())
    (got,) = await _receive_until(hub, queue, 1)
    renewed = await hub.queues.renew(got, timedelta(seconds=60))
    assert renewed is not None and renewed.pop_receipt != got.pop_receipt
    assert await hub.queues.renew(got, timedelta(seconds=60)) is None
    assert await hub.queues.delete(got) is False  # the old lease is no longer valid
    assert await hub.queues.delete(renewed) is True
    assert await hub.queues.delete(renewed) is False
