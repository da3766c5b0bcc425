"""Durable app hosts for crash and multi-host tests: several `python -m emulator start`
processes serving one task hub, and direct reads of that hub's storage."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import requests

from durable.client import DurableOrchestrationClient
from durable.core.history import EventType, HistoryEvent
from durable.storage.instance_store import InstanceRecord
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.support.hosts import HostProcess

TERMINAL = {"Completed", "Failed", "Terminated"}


def durable_host(hub: str, lease_seconds: int = 4, **env: str) -> HostProcess:
    host = HostProcess(
        "durable_app",
        {"TEST_HUB_NAME": hub, "EMULATOR_QUEUE_LEASE_SECONDS": str(lease_seconds), **env},
    )
    return host


def start(host: HostProcess, name: str, payload: object = None) -> str:
    resp = requests.post(host.url(f"api/start/{name}"), json=payload, timeout=30)
    assert resp.status_code == 202, resp.text
    return resp.text


async def wait_all_finished(
    hub: TaskHub, ids: Iterable[str], timeout: float = 120
) -> dict[str, InstanceRecord]:
    pending = set(ids)
    done: dict[str, InstanceRecord] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for iid in list(pending):
            rec = await hub.instances.get(iid)
            if rec is not None and rec.runtime_status.name in TERMINAL:
                done[iid] = rec
                pending.discard(iid)
        if not pending:
            break
        if time.monotonic() > deadline:
            sample = sorted(pending)[:3]
            raise AssertionError(f"{len(pending)} instance(s) unfinished, e.g. {sample}")
        await asyncio.sleep(0.2)
    return done


def duplicate_completions(events: list[HistoryEvent]) -> list[int]:
    """Task ids that history holds more than one completion for (must be none)."""
    kinds = (
        EventType.TaskCompleted,
        EventType.TaskFailed,
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
    )
    ids = Counter(e.task_scheduled_id for e in events if e.event_type in kinds)
    fired = Counter(e.timer_id for e in events if e.event_type is EventType.TimerFired)
    return [i for i, n in (ids + fired).items() if n > 1 and i is not None]


@asynccontextmanager
async def fresh_hub(connection_string: str, hub_name: str) -> AsyncIterator[TaskHub]:
    """A created task hub, deleted afterwards together with any poison queues of its queues."""
    from bench.chaos_report import delete_poison_queues

    hub = hub_for(hub_name, connection_string)
    await hub.create_if_not_exists()
    try:
        yield hub
    finally:
        await delete_poison_queues(hub)
        await hub.delete()
        await hub.close()


def hub_for(name: str, connection_string: str) -> TaskHub:
    return TaskHub(TaskHubSettings(hub_name=name, connection_string=connection_string))


async def start_direct(hub: TaskHub, name: str, payload: object = None) -> str:
    """Start through storage from the test process, independent of any host's life."""
    await hub.create_if_not_exists()
    client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
    return await client.start_new(name, None, payload)
