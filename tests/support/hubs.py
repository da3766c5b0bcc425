"""Task hubs for tests on Azurite: a provisioned hub deleted afterwards, a running worker
with its pump, and status polling with deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from durable.app.root import process
from durable.client import DurableOrchestrationClient
from durable.client.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus
from durable.runtime.clock import Clock
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.integration import orchestrations  # noqa: F401  (registers the test functions)
from tests.support.pump import QueuePump

FINISHED = (
    OrchestrationRuntimeStatus.Completed,
    OrchestrationRuntimeStatus.Failed,
    OrchestrationRuntimeStatus.Terminated,
)


@asynccontextmanager
async def provisioned_hub(
    connection_string: str, hub_name: str, partition_count: int = 4
) -> AsyncIterator[TaskHub]:
    """A created hub that is deleted afterwards, so Azurite does not fill up."""
    settings = TaskHubSettings(
        hub_name=hub_name, connection_string=connection_string, partition_count=partition_count
    )
    async with TaskHub(settings) as hub:
        await hub.create_if_not_exists()
        try:
            yield hub
        finally:
            await hub.delete()


@dataclass
class Running:
    worker: DurableWorker
    client: DurableOrchestrationClient
    pump: QueuePump

    @property
    def hub(self) -> TaskHub:
        return self.worker.hub


@asynccontextmanager
async def running_hub(
    settings: TaskHubSettings, clock: Clock | None = None
) -> AsyncIterator[Running]:
    """A worker + client + pump on a fresh hub, deleted afterwards."""
    hub = TaskHub(settings)
    await hub.create_if_not_exists()
    worker = DurableWorker(settings, hub, process.registry, clock)
    client = DurableOrchestrationClient(settings, hub, functions=process.registry)
    try:
        async with QueuePump(worker) as pump:
            yield Running(worker, client, pump)
    finally:
        await hub.delete()
        await hub.close()


async def wait_for_status(
    client: DurableOrchestrationClient,
    instance_id: str,
    statuses: tuple[OrchestrationRuntimeStatus, ...] = FINISHED,
    timeout: float = 30,
) -> DurableOrchestrationStatus:
    deadline = time.monotonic() + timeout
    while True:
        st = await client.get_status(instance_id, show_input=True)
        if st and st.runtime_status in statuses:
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"instance {instance_id} did not reach {statuses}: {st!r}")
        await asyncio.sleep(0.05)


async def poll_until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition {check.__name__} not met within {timeout} s")
        await asyncio.sleep(0.05)
