"""Messages that cannot be decoded, dropped into every control queue and the work-item queue
of a running host while orchestrations run on every partition.

Each one ends in `{queue}-poison` with a log line naming it (after maxDequeueCount tries, or
at once when it is not even base64); none of them blocks its partition or stops the host.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from azure.storage.queue.aio import QueueClient

from bench.chaos_plan import expected_output
from durable.client import DurableOrchestrationClient
from durable.runtime.worker import MAX_REQUEUES
from durable.storage.partitions import partition_index
from durable.storage.taskhub import TaskHub
from tests.e2e.conftest import HostProcess
from tests.support.durable_hosts import fresh_hub

pytestmark = pytest.mark.slow


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def envelope(event_type: object = 15, **extra: object) -> str:
    return json.dumps({
        "ActivityId": "bad-" + uuid.uuid4().hex[:8],
        "TaskMessage": {
            "Event": {"EventType": event_type, "Timestamp": "2024-05-01T12:00:00Z"},
            "OrchestrationInstance": {"InstanceId": "victim", "ExecutionId": None},
        },
        **extra,
    })


# (what, body as sent to the queue, poisoned at once rather than after maxDequeueCount)
BAD = [
    ("not base64", "%%% garbage, not base64 %%%", True),
    ("raw JSON", envelope(), True),
    ("base64 of text", b64("hello, world"), False),
    ("truncated JSON", b64(envelope()[:40]), False),
    ("unknown event type", b64(envelope(99)), False),
    ("missing blob", b64(json.dumps({"ActivityId": "m", "TaskMessage": None,
                                     "CompressedBlobName": "victim/message-gone.json.gz"})),
     False),
]


@pytest.fixture
async def hub(azurite: str, hub_name: str) -> AsyncIterator[TaskHub]:
    async with fresh_hub(azurite, hub_name) as h:
        yield h


async def poisoned(azurite: str, queue: str) -> list[str]:
    async with QueueClient.from_connection_string(azurite, f"{queue}-poison") as client:
        try:
            return [str(m.content) for m in await client.peek_messages(max_messages=32)]
        except Exception:  # the poison queue does not exist yet
            return []


@pytest.mark.timeout(240)
async def test_undecodable_messages_are_poisoned_and_block_nothing(
    azurite: str, hub: TaskHub, hub_name: str
) -> None:
    queues = [*hub.queues.control_queue_names, hub.queues.work_item_queue_name]
    host = HostProcess("chaos_app", {"TEST_HUB_NAME": hub_name, "AzureWebJobsStorage": azurite})
    try:
        host.wait_ready()
        sent: dict[str, list[str]] = {q: [] for q in queues}
        for queue in queues:
            queue_client = hub.queues.client(queue)
            for _, body, _ in BAD:
                sent[queue].append(str((await queue_client.send_message(body)).id))

        # Work on every partition while the bad messages are tried and poisoned.
        client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
        ids = [f"chain-{i}" for i in range(12)]
        assert {partition_index(i, len(hub.queues.control_queue_names)) for i in ids} == set(
            range(len(hub.queues.control_queue_names)))
        started = time.monotonic()
        for iid in ids:
            await client.start_new("chain", iid)
        deadline = started + 60
        for iid in ids:
            while True:
                status = await client.get_status(iid)
                if status.runtime_status and status.runtime_status.value == "Completed":
                    break
                assert time.monotonic() < deadline, (iid, status.runtime_status)
                await asyncio.sleep(0.2)
            assert status.output == expected_output("chain", iid, None)

        deadline = time.monotonic() + 60
        while True:
            found = {q: await poisoned(azurite, q) for q in queues}
            if all(len(found[q]) == len(BAD) for q in queues):
                break
            assert time.monotonic() < deadline, {q: len(v) for q, v in found.items()}
            await asyncio.sleep(0.5)
        for queue in queues:
            assert sorted(found[queue]) == sorted(body for _, body, _ in BAD)
            for message_id in sent[queue]:
                host.wait_for(rf"Moving message to queue '{re.escape(queue)}-poison' "
                              rf"\(MessageId: {message_id}\)", 10)
        assert not any((await hub.queues.approximate_counts()).values())
        await oversized_id_is_poisoned_after_its_requeues(hub, host)
        # The dispatcher said what was wrong each time it was handed one of them.
        for phrase in ("neither JSON nor base64", "is not JSON", "not a task message",
                       "message-gone.json.gz"):
            assert phrase in host.output, phrase
        assert host.process.poll() is None, "the host must keep running"
    finally:
        code = host.stop()
    assert code == 0


async def oversized_id_is_poisoned_after_its_requeues(hub: TaskHub, host: HostProcess) -> None:
    """A well-formed message the task hub cannot take (an instance id over the table key
    limit) fails on every try: it is sent again a bounded number of times, then poisoned."""
    victim = "x" * 2000
    message = json.loads(envelope(0))
    message["TaskMessage"]["Event"].update(Name="chain", ExecutionId="e1")
    message["TaskMessage"]["OrchestrationInstance"] = {"InstanceId": victim, "ExecutionId": "e1"}
    queue = hub.queues.control_queue_for(victim)
    await hub.queues.client(queue).send_message(b64(json.dumps(message)))
    deadline = time.monotonic() + 90
    while True:
        mine = [b for b in await poisoned_envelopes(hub, queue)
                if b.get("ActivityId") == message["ActivityId"]]
        if mine:
            break
        assert time.monotonic() < deadline, "the oversized message was never poisoned"
        await asyncio.sleep(0.5)
    assert mine[0]["Requeued"] == MAX_REQUEUES
    host.wait_for(rf"sent again as a fresh message \({MAX_REQUEUES} of {MAX_REQUEUES}\)", 10)


async def poisoned_envelopes(hub: TaskHub, queue: str) -> list[dict[str, object]]:
    """The poison queue's messages that are base64 of a JSON object."""
    found = []
    for m in await hub.queues.client(f"{queue}-poison").peek_messages(max_messages=32):
        try:
            body = json.loads(base64.b64decode(str(m.content), validate=True))
        except ValueError:
            continue
        if isinstance(body, dict):
            found.append(body)
    return found
