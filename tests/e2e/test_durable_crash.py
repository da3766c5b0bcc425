"""Hosts killed with SIGKILL at chosen points of an episode; a fresh host finishes the work.

Every instance must complete with the right output and no history may hold a completion
twice, whichever point the crash hit (DESIGN.md: nothing lost, state exactly once).
"""

from __future__ import annotations

import json

import pytest

from tests.support.durable_hosts import (
    duplicate_completions,
    durable_host,
    hub_for,
    start_direct,
    wait_all_finished,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "point", ["after_commit:3", "after_send:3", "in_activity:2"], ids=lambda p: p.split(":")[0]
)
async def test_killed_host_loses_nothing(point: str, azurite: str, hub_name: str) -> None:
    hub = hub_for(hub_name, azurite)
    ids = [await start_direct(hub, "hello_sequence", f"{i}-") for i in range(3)]
    ids.append(await start_direct(hub, "parent", "p-"))
    doomed = durable_host(hub_name, DURABLE_TEST_CRASH_AT=point)
    try:
        # No wait for its ready line: with the work queued before it starts, the host may
        # reach the crash point before it prints that line.
        code = doomed.process.wait(60)
        assert code == -9, f"the host should have been killed at {point}, exit {code}"
    finally:
        doomed.stop()
    survivor = durable_host(hub_name)
    try:
        survivor.wait_ready()
        finished = await wait_all_finished(hub, ids, timeout=120)
    finally:
        survivor.stop()
    try:
        for iid in ids[:3]:
            rec = finished[iid]
            assert rec.runtime_status.name == "Completed", (point, rec.output)
            n = iid and ids.index(iid)
            expected = [f"Hello {n}-{c}!" for c in ("Tokyo", "Seattle", "London")]
            assert json.loads(rec.output or "null") == expected
        parent = finished[ids[3]]
        assert parent.runtime_status.name == "Completed", parent.output
        assert json.loads(parent.output or "null")[1] == 5
        for iid in [*ids, f"{ids[3]}:0", f"{ids[3]}:1"]:
            events = (await hub.history.load_history(iid)).events
            assert duplicate_completions(events) == [], (point, iid)
    finally:
        await hub.delete()
        await hub.close()


WINDOW_SETTING = (
    "AzureFunctionsJobHost__extensions__durableTask__maxQueuedActivitiesPerOrchestration"
)


@pytest.mark.parametrize("point", ["after_commit:6", "in_activity:250"],
                         ids=lambda p: p.split(":")[0])
async def test_killed_host_during_a_large_fan_out_loses_nothing(
    point: str, azurite: str, hub_name: str
) -> None:
    """600 activities through a window of 100 queued work items: the host dies with most of
    them not yet sent; another host finishes the fan-out from history alone."""
    hub = hub_for(hub_name, azurite)
    n = 600
    iid = await start_direct(hub, "fan_out", {"prefix": "f-", "n": n})
    doomed = durable_host(hub_name, DURABLE_TEST_CRASH_AT=point, **{WINDOW_SETTING: "100"})
    try:
        code = doomed.process.wait(90)
        assert code == -9, f"the host should have been killed at {point}, exit {code}"
    finally:
        doomed.stop()
    done_before = sum(e.event_type.name == "TaskCompleted"
                      for e in (await hub.history.load_history(iid)).events)
    assert done_before < n - 100, "the crash should leave most of the fan-out to do"
    survivor = durable_host(hub_name, **{WINDOW_SETTING: "100"})
    try:
        survivor.wait_ready()
        finished = await wait_all_finished(hub, [iid], timeout=180)
    finally:
        survivor.stop()
    try:
        rec = finished[iid]
        assert rec.runtime_status.name == "Completed", (point, rec.output)
        assert json.loads(rec.output or "null") == n
        events = (await hub.history.load_history(iid)).events
        assert duplicate_completions(events) == [], point
    finally:
        await hub.delete()
        await hub.close()
