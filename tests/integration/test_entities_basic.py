"""Entities through queues and tables (in-process pump): the counter of the Durable
Functions documentation signalled and called from clients and orchestrations."""

from __future__ import annotations

import pytest

import durable as df
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from tests.integration import entity_functions  # noqa: F401 (registers the entities)
from tests.support.hubs import poll_until, running_hub, wait_for_status


@pytest.fixture(params=[True, False], ids=["sessions", "replay"])
def settings(
    connection_string: str, hub_name: str, request: pytest.FixtureRequest
) -> TaskHubSettings:
    return TaskHubSettings(
        hub_name=hub_name,
        connection_string=connection_string,
        extended_sessions_enabled=request.param,
    )


async def test_signals_from_a_client_add_up(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "c1")
        for amount in range(1, 11):
            await r.client.signal_entity(entity, "add", amount)

        async def summed() -> bool:
            got = await r.client.read_entity_state(entity)
            return got.entity_exists and got.entity_state == 55

        await poll_until(summed)
        missing = await r.client.read_entity_state(df.EntityId("tally", "never"))
        assert missing.entity_exists is False and missing.entity_state is None
        assert not r.pump.errors


async def test_orchestration_signals_and_calls(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("ent_add_twice", client_input="c2")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == 2

        # The entity's row is written after its batch's sends (the answer that let the
        # orchestration finish), so it may show the new state a moment after.
        async def settled() -> bool:
            got = await r.client.read_entity_state(df.EntityId("tally", "c2"))
            return got.entity_state == 2

        await poll_until(settled)


async def test_the_row_keeps_the_time_the_entity_was_created(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "created")
        await r.client.signal_entity(entity, "add", 1)

        async def applied(value: int) -> bool:
            return (await r.client.read_entity_state(entity)).entity_state == value

        await poll_until(lambda: applied(1))
        first = await r.hub.instances.get("@tally@created", include_input=False)
        for n in range(2, 5):
            await r.client.signal_entity(entity, "add", 1)
            await poll_until(lambda: applied(n))  # noqa: B023 (awaited in the iteration)
        later = await r.hub.instances.get("@tally@created", include_input=False)
        assert first is not None and later is not None
        assert later.created_time == first.created_time
        assert later.last_updated_time > first.last_updated_time
