"""The orchestrations the client, HTTP API and CLI tests run, a running hub to run them on,
and the start-time checks of the client (which need no running instance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

import durable as df
from durable.app.root import process
from durable.client import DurableOrchestrationClient
from durable.core.status import OrchestrationRuntimeStatus
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings
from tests.support.hubs import wait_for_status as wait_status
from tests.support.pump import QueuePump

pytestmark = pytest.mark.azurite

bp = df.Blueprint()
# Tokens whose first activity call has already failed: "fails the first time only".
FAILED_ONCE: set[str] = set()


@bp.activity_trigger(input_name="value")
def cl_echo(value: Any) -> Any:
    return value


@bp.activity_trigger(input_name="token")
def cl_flaky_activity(token: str) -> str:
    if token not in FAILED_ONCE:
        FAILED_ONCE.add(token)
        raise RuntimeError(f"first call with {token} fails")
    return f"ok {token}"


@bp.orchestration_trigger(context_name="context")
def cl_hello(context: df.DurableOrchestrationContext) -> Any:
    first = yield context.call_activity("cl_echo", context.get_input())
    second = yield context.call_activity("cl_echo", "second")
    return [first, second]


@bp.orchestration_trigger(context_name="context")
def cl_wait_event(context: df.DurableOrchestrationContext) -> Any:
    value = yield context.wait_for_external_event("go")
    return {"got": value, "input": context.get_input()}


@bp.orchestration_trigger(context_name="context")
def cl_flaky(context: df.DurableOrchestrationContext) -> Any:
    before = yield context.call_activity("cl_echo", "before")
    result = yield context.call_activity("cl_flaky_activity", context.get_input())
    return [before, result]


@bp.orchestration_trigger(context_name="context")
def cl_parent(context: df.DurableOrchestrationContext) -> Any:
    child = yield context.call_sub_orchestrator("cl_flaky", context.get_input())
    return {"child": child}


@dataclass
class Env:
    worker: DurableWorker
    client: DurableOrchestrationClient
    pump: QueuePump
    settings: TaskHubSettings

    @property
    def hub_name(self) -> str:
        return self.settings.hub_name


@asynccontextmanager
async def running(hub_name: str, connection_string: str) -> AsyncIterator[Env]:
    """A worker, its client and a pump on the test's hub; the hub is deleted afterwards.

    The worker comes from the composition root, so the HTTP API (which resolves its client from the
    `taskHub` query parameter) uses this same hub object.
    """
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    worker = await process.worker(settings)
    client = DurableOrchestrationClient(settings, worker.hub, functions=process.registry)
    try:
        async with QueuePump(worker) as pump:
            yield Env(worker, client, pump, settings)
    finally:
        await worker.hub.delete()
        await worker.close()


# --- start-time checks -----------------------------------------------------------------------


async def test_start_new_rejects_bad_names_and_ids(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        with pytest.raises(ValueError, match="'cl_nope' does not exist"):
            await env.client.start_new("cl_nope")
        with pytest.raises(ValueError, match="must be a non-empty string"):
            await env.client.start_new("")
        for bad in ("a/b", "a?b", "@entity", "x" * 257, "tab\there"):
            with pytest.raises(ValueError, match="instance_id"):
                await env.client.start_new("cl_hello", bad)
        # The function object itself names the orchestrator, as in the SDK.
        iid = await env.client.start_new(cl_hello, None, "fn")
        assert len(iid) == 32 and int(iid, 16) >= 0
        st = await wait_status(env.client, iid)
        assert st.output == ["fn", "second"]


async def test_unchecked_client_starts_names_it_cannot_see(
    hub_name: str, connection_string: str
) -> None:
    async with running(hub_name, connection_string) as env:
        blind = DurableOrchestrationClient(env.settings, env.worker.hub, check_function_names=False)
        iid = await blind.start_new("cl_not_in_this_process", "blind-1")
        st = await wait_status(env.client, iid)
        assert st.runtime_status is OrchestrationRuntimeStatus.Failed
        assert "cl_not_in_this_process" in str(st.output)
