"""Local delivery: the queued copy takes over when in-process handling fails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from durable.app.root import process
from durable.core.messages import TaskMessage
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.support.hubs import running_hub, wait_for_status
from tests.support.pump import QueuePump


async def test_failed_local_handling_releases_the_queued_copy(
    connection_string: str, hub_name: str
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        local = r.worker.sender.local
        assert local is not None
        real_submit = local._submit
        failures: list[str] = []

        async def flaky_submit(message: TaskMessage) -> None:
            if len(failures) < 2:
                failures.append(message.event.event_type.name)
                raise ConnectionError("simulated failure while handling in-process")
            await real_submit(message)

        local._submit = flaky_submit
        iid = await r.client.start_new("hello_sequence")
        # The lease is 5 minutes: completing within the deadline proves the copy was released.
        st = await wait_for_status(r.client, iid, timeout=30)
        assert st.runtime_status is S.Completed
        assert st.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert len(failures) == 2


async def test_backlogged_activities_are_taken_from_the_queue(
    connection_string: str, hub_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host with one activity slot and a fan-out of 12: the backlog becomes visible in the
    work-item queue, the queue path of any host (here a second worker too) takes some, and
    the scheduling host skips those it can no longer claim: each activity runs once."""
    from durable.runtime import local as local_module
    from tests.integration import orchestrations

    monkeypatch.setattr(local_module, "STEAL_AFTER", timedelta(seconds=1))
    taken: list[str] = []
    real = DurableWorker.on_work_item

    async def counting(self: DurableWorker, body: bytes | str, dequeue_count: int = 1) -> None:
        taken.append(self.hub.hub_name)
        await real(self, body, dequeue_count)

    monkeypatch.setattr(DurableWorker, "on_work_item", counting)
    orchestrations.steal_runs.clear()
    busy = TaskHubSettings(
        hub_name=hub_name, connection_string=connection_string, max_concurrent_activity_functions=1
    )
    async with running_hub(busy) as r:
        helper_hub = TaskHub(busy)
        try:
            async with QueuePump(DurableWorker(busy, helper_hub, process.registry)):
                iid = await r.client.start_new("slow_fan_out", client_input=12)
                st = await wait_for_status(r.client, iid, timeout=60)
        finally:
            await helper_hub.close()
    assert st.output == sum(range(12))
    assert taken, "backlogged work items should have been taken from the queue"
    assert orchestrations.steal_runs == {i: 1 for i in range(12)}
