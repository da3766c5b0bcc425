"""Orchestration versioning through queues and tables: where the version is stored, what
instances inherit, and what hosts of other versions do with an instance (Reject, Fail)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from durable.app.root import process
from durable.client import DurableOrchestrationClient
from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.core.versioning import VersionFailureStrategy, VersionMatchStrategy
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.integration import (
    entity_functions,  # noqa: F401  (registers the entities)
    versioned_functions,  # noqa: F401  (registers the functions)
)
from tests.support.hubs import poll_until, provisioned_hub, wait_for_status
from tests.support.pump import QueuePump


def _settings(connection_string: str, hub_name: str, **versioning: Any) -> TaskHubSettings:
    return TaskHubSettings(hub_name=hub_name, connection_string=connection_string, **versioning)


@asynccontextmanager
async def _host(settings: TaskHubSettings) -> AsyncIterator[QueuePump]:
    """One host of the hub (its own storage clients and pump); the hub outlives it."""
    worker = DurableWorker(settings, TaskHub(settings), process.registry)
    await worker.ready()
    try:
        async with QueuePump(worker) as pump:
            yield pump
    finally:
        await worker.close()


@asynccontextmanager
async def _hub(settings: TaskHubSettings) -> AsyncIterator[DurableOrchestrationClient]:
    """A provisioned hub, deleted afterwards, and a client with `settings`."""
    async with provisioned_hub(settings.connection_string, settings.hub_name) as hub:
        yield DurableOrchestrationClient(settings, hub, functions=process.registry)


async def test_start_with_a_version_is_stored_and_shown(
    connection_string: str, hub_name: str
) -> None:
    settings = _settings(connection_string, hub_name, default_version="2.0")
    async with _hub(settings) as client, _host(settings) as pump:
        iid = await client.start_new("versioned_orchestrator", None, None, "1.5")
        st = await wait_for_status(client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == {"version": "1.5", "step": "ran v1"}
        assert st.version == "1.5" and st.to_json()["version"] == "1.5"
        hub = await client._taskhub()
        row = await hub.instances.get(iid)
        assert row is not None and row.version == "1.5"
        events = (await hub.history.load_history(iid)).events
        started = next(e for e in events if e.event_type is EventType.ExecutionStarted)
        assert started.version == "1.5"
        assert not pump.errors


async def test_default_version_stamps_new_instances_and_children(
    connection_string: str, hub_name: str
) -> None:
    settings = _settings(connection_string, hub_name, default_version="2.0")
    async with _hub(settings) as client, _host(settings):
        iid = await client.start_new("versioned_orchestrator")
        st = await wait_for_status(client, iid)
        assert st.output == {"version": "2.0", "step": "ran v2"} and st.version == "2.0"
        parent = await client.start_new("versioned_parent", "p1", version="1.5")
        st = await wait_for_status(client, parent)
        assert st.runtime_status is S.Completed, st.output
        # A child without a version gets the host's defaultVersion, not its parent's.
        assert st.output == {"parent": "1.5", "default": "2.0", "explicit": "1.0"}
        assert (await client.get_status("p1-a")).version == "2.0"
        assert (await client.get_status("p1-b")).version == "1.0"


async def test_orchestrations_entities_start_get_the_default_version(
    connection_string: str, hub_name: str
) -> None:
    settings = _settings(connection_string, hub_name, default_version="2.0")
    async with _hub(settings) as client, _host(settings):
        caller = await client.start_new("ent_call_start", client_input="vk", version="1.0")
        child = (await wait_for_status(client, caller)).output
        assert isinstance(child, str)
        # The entity's host stamps its defaultVersion, not the calling instance's version.
        st = await wait_for_status(client, child)
        assert st.runtime_status is S.Completed and st.version == "2.0"


async def test_continue_as_new_keeps_the_version(connection_string: str, hub_name: str) -> None:
    settings = _settings(connection_string, hub_name, default_version="3.0")
    async with _hub(settings) as client, _host(settings):
        iid = await client.start_new("versioned_eternal", version="2.5")
        st = await wait_for_status(client, iid)
        assert st.output == ["2.5", "2.5", "2.5"] and st.version == "2.5"


async def test_restart_keeps_the_version(connection_string: str, hub_name: str) -> None:
    settings = _settings(connection_string, hub_name, default_version="2.0")
    async with _hub(settings) as client, _host(settings):
        iid = await client.start_new("versioned_orchestrator", version="1.0")
        await wait_for_status(client, iid)
        again = await client.restart(iid)
        st = await wait_for_status(client, again)
        assert st.version == "1.0" and st.output["step"] == "ran v1"


async def test_strict_host_rejects_an_older_instance_until_a_matching_host_runs_it(
    connection_string: str, hub_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    strict = _settings(connection_string, hub_name, default_version="2.0",
                       version_match_strategy=VersionMatchStrategy.STRICT)
    async with _hub(strict) as client:
        iid = await client.start_new("versioned_orchestrator", version="1.0")
        caplog.set_level(logging.WARNING, logger="durable.orchestration")

        async def rejected_twice() -> bool:
            notes = [r for r in caplog.records if "Not running" in r.getMessage()]
            return len(notes) >= 2

        async with _host(strict) as pump:
            await poll_until(rejected_twice)
            assert not pump.errors
        notes = [r for r in caplog.records if "Not running" in r.getMessage()]
        note = notes[0].getMessage()
        assert "'1.0'" in note and "'2.0'" in note and iid in note
        # Backoff, no hot loop: the second rejection came after the first one's delay.
        assert notes[1].created - notes[0].created >= 0.9
        # Nothing ran and nothing was committed: the instance waits, its start still queued.
        st = await client.get_status(iid)
        assert st.runtime_status is S.Pending
        hub = await client._taskhub()
        assert (await hub.history.load_history(iid)).events == []

        async def visible_again() -> bool:
            return bool(await _queued_starts(hub))

        # The start is back on its queue once its delay has passed, as a fresh message: no
        # dequeue counts towards the poison queue however often it is rejected.
        await poll_until(visible_again)
        assert await _queued_starts(hub) == [0]
        matching = _settings(connection_string, hub_name, default_version="1.0",
                             version_match_strategy=VersionMatchStrategy.STRICT)
        began = time.monotonic()
        async with _host(matching):
            st = await wait_for_status(client, iid, timeout=60)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == {"version": "1.0", "step": "ran v1"}
        # The rejections' backoff was short (two rejections: hidden 1 s, then 2 s).
        assert time.monotonic() - began < 30


async def _queued_starts(hub: TaskHub) -> list[int]:
    """The dequeue counts of the visible messages on the hub's control queues."""
    counts: list[int] = []
    for name in hub.queues.control_queue_names:
        peeked = await hub.queues.client(name).peek_messages(max_messages=32)
        counts.extend(m.dequeue_count or 0 for m in peeked)
    return counts


async def test_fail_strategy_fails_a_newer_instance_naming_both_versions(
    connection_string: str, hub_name: str
) -> None:
    settings = _settings(connection_string, hub_name, default_version="1.0",
                         version_failure_strategy=VersionFailureStrategy.FAIL)
    async with _hub(settings) as client, _host(settings):
        newer = await client.start_new("versioned_orchestrator", version="2.0")
        st = await wait_for_status(client, newer)
        assert st.runtime_status is S.Failed
        assert "'2.0'" in st.output and "'1.0'" in st.output and "CurrentOrOlder" in st.output
        hub = await client._taskhub()
        events = (await hub.history.load_history(newer)).events
        done = next(e for e in events if e.event_type is EventType.ExecutionCompleted)
        assert done.failure_details is not None
        assert done.failure_details.error_type == "VersionMismatchError"
        assert not any(e.event_type is EventType.TaskScheduled for e in events)
        # An older instance runs on the same host.
        older = await client.start_new("versioned_orchestrator", version="0.9")
        assert (await wait_for_status(client, older)).runtime_status is S.Completed


async def test_fail_strategy_fails_an_instance_in_flight(
    connection_string: str, hub_name: str
) -> None:
    """A host of an older version getting an instance midway fails it at that episode."""
    new_host = _settings(connection_string, hub_name, default_version="2.0")
    async with _hub(new_host) as client:
        async with _host(new_host):
            iid = await client.start_new("wait_event", version="2.0")
            await wait_for_status(client, iid, (S.Running,))
        old_host = _settings(connection_string, hub_name, default_version="1.0",
                             version_failure_strategy=VersionFailureStrategy.FAIL)
        async with _host(old_host):
            await client.raise_event(iid, "approval", True)
            st = await wait_for_status(client, iid)
        assert st.runtime_status is S.Failed and "'2.0'" in st.output and st.version == "2.0"


async def test_queries_filter_by_version(connection_string: str, hub_name: str) -> None:
    settings = _settings(connection_string, hub_name)
    async with _hub(settings) as client:
        # No host runs: the Pending rows carry the version already.
        ones = {await client.start_new("versioned_orchestrator", version="1.0") for _ in range(2)}
        await client.start_new("versioned_orchestrator", version="2.0")
        await client.start_new("versioned_orchestrator")
        found = await client.get_status_by(version="1.0")
        assert {s.instance_id for s in found} == ones
        assert all(s.version == "1.0" for s in found)
        page, _ = await client.get_status_page(version="2.0")
        assert [s.version for s in page] == ["2.0"]
        assert len(await client.get_status_by()) == 4
        with pytest.raises(TypeError, match="version"):
            await client.start_new("versioned_orchestrator", version=2)  # type: ignore[arg-type]
