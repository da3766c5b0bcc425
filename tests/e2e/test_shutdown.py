"""Graceful shutdown under load: SIGTERM a host in the middle of its work and start another.

The stopped host finishes what it is running and exits 0; the new one carries on. Nothing
is lost, no history holds a completion twice, and the queues end empty with no poison.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from azure.data.tables.aio import TableServiceClient

from bench.chaos_plan import Instance
from bench.chaos_report import history_problems, poison_counts
from durable.client import DurableOrchestrationClient
from durable.storage.taskhub import TaskHub
from tests.e2e.conftest import HostProcess
from tests.support.durable_hosts import fresh_hub

pytestmark = pytest.mark.slow

PLAN = [
    *[Instance(f"chain-{i}", "chain", None) for i in range(10)],
    *[Instance(f"fan-{i}", "fan", 20) for i in range(8)],
    *[Instance(f"parent-{i}", "parent", None) for i in range(6)],
    *[Instance(f"timer-{i}", "timer", 3) for i in range(6)],
]
FINAL = ("Completed", "Failed", "Terminated")


@pytest.fixture
async def hub(azurite: str, hub_name: str) -> AsyncIterator[TaskHub]:
    async with fresh_hub(azurite, hub_name) as h:
        yield h


async def executions(connection_string: str, table: str) -> Counter[str]:
    rows: Counter[str] = Counter()
    async with TableServiceClient.from_connection_string(connection_string) as service:
        async for row in service.get_table_client(table).list_entities(select=["PartitionKey"]):
            rows[str(row["PartitionKey"])] += 1
        await service.delete_table(table)
    return rows


@pytest.mark.timeout(300)
async def test_sigterm_mid_work_loses_and_duplicates_nothing(
    azurite: str, hub: TaskHub, hub_name: str
) -> None:
    table = f"fx{hub_name}"
    env = {
        "TEST_HUB_NAME": hub_name,
        "AzureWebJobsStorage": azurite,
        "SIDE_EFFECT_TABLE": table,
        "EMULATOR_QUEUE_LEASE_SECONDS": "5",
        "ACTIVITY_MAX_SECONDS": "0.5",
    }
    client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
    first = HostProcess("shutdown_app", env)
    second: HostProcess | None = None
    try:
        first.wait_ready()
        for inst in PLAN:
            await client.start_new(inst.name, inst.instance_id, inst.payload)

        deadline = time.monotonic() + 60
        while True:  # stop it once it is well into the work, with plenty still running
            statuses = [await client.get_status(i.instance_id) for i in PLAN]
            done = sum(1 for s in statuses if s.runtime_status and s.runtime_status.value in FINAL)
            if done >= 3:
                break
            assert time.monotonic() < deadline, "no instance finished on the first host"
            await asyncio.sleep(0.2)
        assert done < len(PLAN) // 2, "the first host finished too much to test a shutdown"

        second = HostProcess("shutdown_app", env)
        stopping = time.monotonic()
        assert first.stop() == 0
        stop_seconds = time.monotonic() - stopping
        second.wait_ready()
        assert "Host stopped." in first.output
        assert "(Failed," not in first.output, first.output[-4000:]
        assert stop_seconds < 35, f"the host took {stop_seconds:.1f} s to stop"

        deadline = time.monotonic() + 120
        while True:
            statuses = [await client.get_status(i.instance_id) for i in PLAN]
            if all(s.runtime_status and s.runtime_status.value in FINAL for s in statuses):
                break
            assert time.monotonic() < deadline, [
                (s.instance_id, s.runtime_status) for s in statuses][:5]
            await asyncio.sleep(0.5)
        for inst, status in zip(PLAN, statuses, strict=True):
            assert status.runtime_status and status.runtime_status.value == "Completed"
            assert status.output == inst.expected_output(), inst.instance_id
            for iid in inst.all_ids():
                events = (await hub.history.load_history(iid)).events
                assert history_problems(iid, events) == []

        deadline = time.monotonic() + 60
        while any((await hub.queues.approximate_counts()).values()):
            assert time.monotonic() < deadline, await hub.queues.approximate_counts()
            await asyncio.sleep(0.5)
        assert not any((await poison_counts(hub)).values())
    finally:
        if first.process.poll() is None:
            first.stop()
        if second is not None:
            assert second.stop() == 0
    rows = await executions(azurite, table)
    expected: dict[str, int] = {}
    for inst in PLAN:
        expected.update(inst.expected_executions())
    assert set(rows) == set(expected)
    duplicates = {k: n for k, n in rows.items() if n > expected[k]}
    print(f"activity executions {sum(rows.values())} (expected {sum(expected.values())}), "
          f"ran twice: {len(duplicates)}")
    ran_here = len(re.findall(r"Executed 'Functions\.durable_", first.output))
    assert ran_here > 0
