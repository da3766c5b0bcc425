"""Versions over the HTTP management API: `?version=` on start and list, `version` in the
status body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from durable.app.root import process
from durable.client import DurableOrchestrationClient
from durable.storage.settings import TaskHubSettings
from tests.integration import versioned_functions  # noqa: F401  (registers the functions)
from tests.integration.test_client_apps import Env
from tests.integration.test_http_api import body_of, call
from tests.support.hubs import wait_for_status as wait_status
from tests.support.pump import QueuePump

pytestmark = pytest.mark.azurite


@asynccontextmanager
async def running(hub_name: str, connection_string: str) -> AsyncIterator[Env]:
    """The composition root's worker of a host whose defaultVersion is 2.0 (the management
    API's client reads host.json, which has none), with a pump."""
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string,
                               default_version="2.0")
    worker = await process.worker(settings)
    client = DurableOrchestrationClient(settings, worker.hub, functions=process.registry)
    try:
        async with QueuePump(worker) as pump:
            yield Env(worker, client, pump, settings)
    finally:
        await worker.hub.delete()
        await worker.close()


async def test_http_start_status_and_list_carry_the_version(
    hub_name: str, connection_string: str
) -> None:
    async with running(hub_name, connection_string) as env:
        resp = await call(env, "POST", "orchestrators/versioned_orchestrator/h-2",
                          {"version": "2.0"})
        assert resp.status_code == 202, body_of(resp)
        plain = await call(env, "POST", "orchestrators/versioned_orchestrator/h-none")
        assert plain.status_code == 202
        st = await wait_status(env.client, "h-2")
        assert st.output == {"version": "2.0", "step": "ran v2"}
        await wait_status(env.client, "h-none")
        body = body_of(await call(env, "GET", "instances/h-2"))
        assert body["version"] == "2.0" and body["runtimeStatus"] == "Completed"
        # An unversioned instance's body is Durable Functions' shape, without the member.
        assert "version" not in body_of(await call(env, "GET", "instances/h-none"))
        listed = body_of(await call(env, "GET", "instances", {"version": "2.0"}))
        assert [b["instanceId"] for b in listed] == ["h-2"]
        everything = body_of(await call(env, "GET", "instances"))
        assert {b["instanceId"] for b in everything} == {"h-2", "h-none"}
