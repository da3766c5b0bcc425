"""Hosts killed with SIGKILL in the middle of entity batches; a fresh host finishes the work.

The counter's final value must be exactly the number of increments signalled: an
operation's effect on state happens exactly once whichever point the crash hit.
"""

from __future__ import annotations

import asyncio

import pytest

import durable as df
from durable.client import DurableOrchestrationClient
from tests.support.durable_hosts import durable_host, fresh_hub, start_direct, wait_all_finished

pytestmark = pytest.mark.slow

CLIENT_SIGNALS = 40
ORCHESTRATION_SIGNALS = 10


@pytest.mark.parametrize("point", ["after_commit:2", "after_send:3"],
                         ids=lambda p: p.split(":")[0])
async def test_killed_host_applies_every_increment_once(
    point: str, azurite: str, hub_name: str
) -> None:
    async with fresh_hub(azurite, hub_name) as hub:
        client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
        entity = df.EntityId("counter_entity", "crash")
        await asyncio.gather(*(client.signal_entity(entity, "add", 1)
                               for _ in range(CLIENT_SIGNALS)))
        orchestration = await start_direct(
            hub, "add_to_counter", {"key": "crash", "signals": ORCHESTRATION_SIGNALS}
        )
        doomed = durable_host(hub_name, DURABLE_TEST_CRASH_AT=point)
        try:
            code = doomed.process.wait(60)
            assert code == -9, f"the host should have been killed at {point}, exit {code}"
        finally:
            doomed.stop()
        survivor = durable_host(hub_name)
        try:
            survivor.wait_ready()
            await wait_all_finished(hub, [orchestration], timeout=120)
            expected = CLIENT_SIGNALS + ORCHESTRATION_SIGNALS + 1

            async def settled() -> int:
                deadline = asyncio.get_running_loop().time() + 60
                while True:
                    value = (await client.read_entity_state(entity)).entity_state
                    if value == expected or asyncio.get_running_loop().time() > deadline:
                        return int(value or 0)
                    await asyncio.sleep(0.1)

            assert await settled() == expected
        finally:
            survivor.stop()
        assert (await client.read_entity_state(entity)).entity_state == expected
