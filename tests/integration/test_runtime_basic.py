from __future__ import annotations

import asyncio
import time

import pytest

from durable.client import DurableOrchestrationClient
from durable.runtime.worker import get_worker
from durable.status import OrchestrationRuntimeStatus
from durable.storage.settings import TaskHubSettings
from tests.integration import orchestrations  # noqa: F401  (registers the functions)
from tests.integration.pump import QueuePump


async def wait_done(client: DurableOrchestrationClient, iid: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while True:
        st = await client.get_status(iid)
        if st and st.runtime_status in (
            OrchestrationRuntimeStatus.Completed,
            OrchestrationRuntimeStatus.Failed,
            OrchestrationRuntimeStatus.Terminated,
        ):
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"instance {iid} not finished: {st!r}")
        await asyncio.sleep(0.05)


@pytest.fixture
def settings(connection_string: str, hub_name: str) -> TaskHubSettings:
    return TaskHubSettings(hub_name=hub_name, connection_string=connection_string)


async def test_hello_sequence(settings: TaskHubSettings) -> None:
    worker = await get_worker(settings)
    client = DurableOrchestrationClient(settings, worker.hub)
    async with QueuePump(worker) as pump:
        iid = await client.start_new("hello_sequence")
        st = await wait_done(client, iid)
    assert st.runtime_status is OrchestrationRuntimeStatus.Completed, st.output
    assert st.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert not pump.errors
    await worker.hub.delete()


async def test_fan_out_event_timer(settings: TaskHubSettings) -> None:
    worker = await get_worker(settings)
    client = DurableOrchestrationClient(settings, worker.hub)
    async with QueuePump(worker) as pump:
        fan = await client.start_new("fan_out", client_input=20)
        ev = await client.start_new("wait_event")
        tm = await client.start_new("short_timer")
        await client.raise_event(ev, "approval", {"ok": True})
        st_fan = await wait_done(client, fan)
        st_ev = await wait_done(client, ev)
        st_tm = await wait_done(client, tm)
    assert st_fan.output == 20
    assert st_ev.output == {"ok": True}
    assert st_tm.output == "fired"
    assert not pump.errors
    hist = await worker.hub.history.load_history(fan)
    kinds = [e.event_type.name for e in hist.events]
    assert kinds.count("TaskCompleted") == 20
    print(len([k for k in kinds if k == "OrchestratorStarted"]), "episodes for fan-out")
    await worker.hub.delete()
    await worker.close()
