"""Queue messages the dispatchers cannot use, and messages that hosts kept dying on.

A body that is not a task message makes the dispatcher raise `MessageFormatError` (or
`LargePayloadMissingError`) naming what is wrong, every time, so the Functions host moves it
to the poison queue after maxDequeueCount tries (the e2e fuzz test checks that part). A
valid message that was only dequeued many times because hosts died holding it is sent again
as a fresh message instead of being left for the poison queue; one whose handler fails is
sent again with the failure counted in it, and left to the poison queue after MAX_REQUEUES.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from durable.app.root import process
from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.errors import LargePayloadMissingError, MessageFormatError
from durable.runtime.worker import MAX_REQUEUES, DurableWorker
from durable.storage import TaskHub, TaskHubSettings
from durable.storage.queues import REQUEUED_MEMBER
from durable.storage.transport import is_transient
from tests.support.events import at
from tests.support.hubs import provisioned_hub

pytestmark = pytest.mark.azurite


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def envelope(event_type: int = 15, **event: object) -> dict[str, object]:
    return {
        "ActivityId": "m-1",
        "TaskMessage": {
            "Event": {"EventType": event_type, "Timestamp": "2024-05-01T12:00:00Z", **event},
            "OrchestrationInstance": {"InstanceId": "inst-1", "ExecutionId": None},
        },
        "SequenceNumber": 1,
    }


VALID = json.dumps(envelope(name="go"))
UNDECODABLE: dict[str, tuple[str | bytes, str]] = {
    "garbage": ("%%% not base64 at all %%%", "neither JSON nor base64"),
    "binary": (b"\xff\xfe\x00\x81", "neither JSON nor base64"),
    "base64 of text": (b64("hello, world"), "not JSON"),
    "truncated json": (b64(VALID[: len(VALID) // 2]), "not JSON"),
    "truncated raw json": (VALID[:-7], "not JSON"),
    "json array": (b64("[1, 2, 3]"), "not a JSON object"),
    "empty object": (b64("{}"), "not a task message"),
    "unknown event type": (b64(json.dumps(envelope(99))), "not a task message"),
    "event type as text": (b64(json.dumps(envelope("EventRaised"))), "not a task message"),
    "bad timestamp": (
        b64(json.dumps(envelope(15, Timestamp="yesterday"))), "not a task message"
    ),
    "no instance": (
        b64(json.dumps({**envelope(), "TaskMessage": {"Event": envelope()["TaskMessage"]}})),
        "not a task message",
    ),
}


@pytest.fixture
async def worker(connection_string: str, hub_name: str) -> AsyncIterator[DurableWorker]:
    async with provisioned_hub(connection_string, hub_name) as hub:
        settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
        yield DurableWorker(settings, hub, process.registry)


@pytest.mark.parametrize("case", sorted(UNDECODABLE))
async def test_undecodable_message_raises_a_clear_error_on_both_queues(
    worker: DurableWorker, case: str
) -> None:
    body, phrase = UNDECODABLE[case]
    for handler in (worker.on_control_message, worker.on_work_item):
        for dequeue_count in (1, 4, 5):  # the same answer on every try, last ones included
            with pytest.raises(MessageFormatError, match=phrase):
                await handler(body, dequeue_count)


async def test_reference_to_a_missing_large_message_blob(worker: DurableWorker) -> None:
    body = b64(json.dumps({"ActivityId": "m-2", "TaskMessage": None,
                           "CompressedBlobName": "inst-1/message-gone.json.gz"}))
    for handler in (worker.on_control_message, worker.on_work_item):
        with pytest.raises(LargePayloadMissingError, match="message-gone.json.gz"):
            await handler(body, 1)


async def _queued_bodies(hub: TaskHub, queue: str) -> list[dict[str, object]]:
    client = hub.queues.client(queue)
    found = [json.loads(base64.b64decode(str(m.content)))
             for m in await client.peek_messages(max_messages=32)]
    return found


def _event_message(kind: EventType, instance_id: str = "nobody") -> TaskMessage:
    event = HistoryEvent(kind, at(0), name="say_hello", input='"x"', event_id=0)
    return TaskMessage("m-requeue", instance_id, event, "exec-1")


async def test_message_on_its_last_tries_is_sent_again_not_run(worker: DurableWorker) -> None:
    hub = worker.hub
    raised = _event_message(EventType.EventRaised)
    body = await hub.queues.encode(raised)
    queue = hub.queues.control_queue_for("nobody")

    await worker.on_control_message(body, 1)  # run: dropped, the instance does not exist
    assert await _queued_bodies(hub, queue) == []

    await worker.on_control_message(body, 2)
    (copy,) = await _queued_bodies(hub, queue)
    # Hosts lost it, it did not fail: not counted, however often that happens.
    assert copy.get(REQUEUED_MEMBER, 0) == 0
    assert copy["ActivityId"] == raised.message_id  # the same message, de-duplicated by id
    decoded = await hub.queues.decode(b64(json.dumps(copy)))
    assert decoded == raised
    await hub.queues.client(queue).clear_messages()
    await worker.on_control_message(b64(json.dumps(copy)), worker.max_dequeue_count)
    (again,) = await _queued_bodies(hub, queue)
    assert again.get(REQUEUED_MEMBER, 0) == 0

    # A copy that already failed MAX_REQUEUES times runs (and may then be poisoned).
    tired = b64(json.dumps({**copy, REQUEUED_MEMBER: MAX_REQUEUES}))
    await hub.queues.client(queue).clear_messages()
    await worker.on_control_message(tired, worker.max_dequeue_count)
    assert await _queued_bodies(hub, queue) == []


async def test_work_item_on_its_last_try_is_sent_again_not_run(worker: DurableWorker) -> None:
    hub = worker.hub
    scheduled = _event_message(EventType.TaskScheduled)
    body = await hub.queues.encode(scheduled)
    await worker.on_work_item(body, worker.max_dequeue_count)
    (copy,) = await _queued_bodies(hub, hub.queues.work_item_queue_name)
    assert copy.get(REQUEUED_MEMBER, 0) == 0
    assert copy["ActivityId"] == scheduled.message_id
    # It was not run: no completion was sent to the instance's control queue.
    assert await _queued_bodies(hub, hub.queues.control_queue_for("nobody")) == []


async def test_a_failure_is_counted_in_the_message_sent_again(worker: DurableWorker) -> None:
    """A start for an instance id over the table key limit fails on every try: each failure
    sends it again with one more failure counted; the last one raises, to the trigger."""
    hub = worker.hub
    victim = "x" * 2000
    start = HistoryEvent(EventType.ExecutionStarted, at(0), name="chain", input="null",
                         execution_id="e1")
    body = await hub.queues.encode(TaskMessage("m-fails", victim, start, "e1"))
    queue = hub.queues.control_queue_for(victim)
    client = hub.queues.client(queue)

    await worker.on_control_message(body, 1)  # failed, and sent again: no raise
    (copy,) = await _queued_bodies(hub, queue)
    assert copy[REQUEUED_MEMBER] == 1
    assert copy["ActivityId"] == "m-fails"

    await client.clear_messages()
    await worker.on_control_message(b64(json.dumps(copy)), 1)
    (copy,) = await _queued_bodies(hub, queue)
    assert copy[REQUEUED_MEMBER] == 2

    await client.clear_messages()
    last = b64(json.dumps({**copy, REQUEUED_MEMBER: MAX_REQUEUES}))
    with pytest.raises(Exception) as failure:
        await worker.on_control_message(last, 1)
    assert not isinstance(failure.value, MessageFormatError)
    assert not is_transient(failure.value)
    assert await _queued_bodies(hub, queue) == []
    # Nor does a lost host's requeue rescue it: it is left for the poison queue.
    with pytest.raises(type(failure.value)):
        await worker.on_control_message(last, worker.max_dequeue_count)
    assert await _queued_bodies(hub, queue) == []
