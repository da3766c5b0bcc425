"""The chaos report's review of poison queues: a poisoned copy of a message that another copy
made up for is not a loss; one that nothing made up for, or a body nobody can read, is."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError

from bench.chaos_report import delete_poison_queues, unapplied_poison
from durable.core.events import event_raised
from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.queues import TaskHubQueues
from durable.storage.settings import TaskHubSettings
from tests.support.hubs import running_hub, wait_for_status


async def _poison(queues: TaskHubQueues, message: TaskMessage) -> str:
    """Put `message` where the queue trigger puts a message it gave up on."""
    name = queues.queue_for(message) + "-poison"
    client = queues.client(name)
    with contextlib.suppress(ResourceExistsError):
        await client.create_queue()
    await client.send_message(await queues.encode(message))
    return name


async def test_only_poisoned_messages_no_copy_made_up_for_are_lost(
    connection_string: str, hub_name: str
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        done_id = await r.client.start_new("wait_event")
        waiting_id = await r.client.start_new("wait_event")
        await wait_for_status(r.client, done_id, (S.Running,))
        await wait_for_status(r.client, waiting_id, (S.Running,))
        queues = r.worker.hub.queues

        def approval(instance_id: str, message_id: str) -> TaskMessage:
            event = event_raised(datetime.now(UTC), name="approval", input='"ok"')
            return TaskMessage(message_id, instance_id, event)

        applied = approval(done_id, "m-applied")
        await r.worker.on_control_message(await queues.encode(applied))
        st = await wait_for_status(r.client, done_id)
        assert st.runtime_status is S.Completed

        await _poison(queues, applied)  # its other copy was applied: nothing lost
        await _poison(queues, approval(waiting_id, "m-lost"))  # never applied: lost
        history = await r.worker.hub.history.load_history(done_id)
        scheduled = next(e for e in history.events if e.event_type is EventType.ExecutionStarted)
        assert scheduled.message_id  # the start's copy, poisoned after it was applied
        start_copy = TaskMessage(scheduled.message_id, done_id, scheduled)
        await _poison(queues, start_copy)
        control = queues.queue_for(applied) + "-poison"
        await queues.client(control).send_message("not a task message")

        try:
            lost = await unapplied_poison(r.worker.hub)
        finally:
            await delete_poison_queues(r.worker.hub)
    assert f"{waiting_id}: EventRaised m-lost" in lost
    assert any("undecodable poison message" in line for line in lost)
    assert len(lost) == 2, lost
