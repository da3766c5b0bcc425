"""Payloads past the queue and table limits, and timers past the queue's visibility limit."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.runtime.clock import Clock
from durable.storage.settings import TaskHubSettings
from tests.support.hubs import running_hub, wait_for_status


async def test_five_megabyte_activity_result_round_trips(
    connection_string: str, hub_name: str
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    size = 5 * 1024 * 1024
    async with running_hub(settings) as r:
        iid = await r.client.start_new("big_payload", client_input=size)
        st = await wait_for_status(r.client, iid, timeout=120)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == {"len": size, "echoed": size, "tail": "xxxxx"}
        assert st.custom_status == {"head": "x" * 10}
        blobs = await r.hub.payloads.list_instance_blobs(iid)
        assert blobs, "the large result should have been offloaded to the large-message container"
        events = (await r.hub.history.load_history(iid)).events
        done = [e for e in events if e.event_type is EventType.TaskCompleted]
        assert len(done[0].result or "") == size + 2  # the JSON string, quotes included


class FastForwardClock(Clock):
    """Runs fake time ahead of real time so a ten-day timer passes in seconds."""

    def __init__(self, step: timedelta) -> None:
        super().__init__()
        self.step = step

    async def run(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.offset += self.step


@pytest.mark.slow
async def test_ten_day_timer_chains_through_short_hops(
    connection_string: str, hub_name: str
) -> None:
    # One queue hop may hide a message for 1 s at most here (6 days on Azure); fake time runs
    # a day per 0.25 s, so the timer must be re-sent hop after hop until it is due.
    settings = TaskHubSettings(
        hub_name=hub_name,
        connection_string=connection_string,
        max_chain_delay=timedelta(seconds=1),
    )
    clock = FastForwardClock(step=timedelta(days=1))
    async with running_hub(settings, clock) as r:
        iid = await r.client.start_new("long_timer")
        await wait_for_status(r.client, iid, (S.Running,))
        ticker = asyncio.create_task(clock.run())
        try:
            st = await wait_for_status(r.client, iid, timeout=60)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        assert st.runtime_status is S.Completed
        assert st.output is True
        events = (await r.hub.history.load_history(iid)).events
        fired = [e for e in events if e.event_type is EventType.TimerFired]
        assert len(fired) == 1
        # Ten fake days at one fake day per 0.25 s with 1 s hops: the message hopped repeatedly.
        assert r.worker.timer_hops >= 2


async def test_max_concurrent_activity_functions_is_honoured(
    connection_string: str, hub_name: str
) -> None:
    from tests.integration import orchestrations

    settings = TaskHubSettings(
        hub_name=hub_name,
        connection_string=connection_string,
        max_concurrent_activity_functions=2,
    )
    orchestrations.probe.update(running=0, peak=0)
    async with running_hub(settings) as r:
        iid = await r.client.start_new("probe_fan_out", client_input=12)
        st = await wait_for_status(r.client, iid)
        assert st.output == 12
    assert orchestrations.probe["peak"] == 2
