"""The client's SDK 1.7 gaps against Azurite: suspend/resume of a finished instance, the id
prefix filter of get_status_by, request-less links, and the binding-string constructor."""

from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func
import pytest

from durable.client import DurableOrchestrationClient
from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.errors import InstanceNotFoundError
from tests.integration.test_client_apps import running
from tests.support.hubs import wait_for_status as wait_status

pytestmark = pytest.mark.azurite


async def test_suspend_and_resume_leave_a_finished_instance_alone(
    hub_name: str, connection_string: str
) -> None:
    async with running(hub_name, connection_string) as env:
        c = env.client
        iid = await c.start_new("cl_hello", "gaps-done", "x")
        assert (await wait_status(c, iid)).runtime_status is S.Completed
        await c.suspend(iid, "too late")
        await c.resume(iid, "still too late")
        assert (await c.get_status(iid)).runtime_status is S.Completed
        events = (await env.worker.hub.history.load_history(iid)).events
        kinds = {e.event_type for e in events}
        assert not kinds & {EventType.ExecutionSuspended, EventType.ExecutionResumed}
        with pytest.raises(InstanceNotFoundError):
            await c.suspend("gaps-nobody", "x")


async def test_get_status_by_instance_id_prefix(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        c = env.client
        for iid in ("order-1", "order-2", "other-1"):
            await c.start_new("cl_hello", iid, iid)
        for iid in ("order-1", "order-2", "other-1"):
            await wait_status(c, iid)
        found = await c.get_status_by(instance_id_prefix="order-")
        assert sorted(s.instance_id or "" for s in found) == ["order-1", "order-2"]
        completed = await c.get_status_by(runtime_status=[S.Completed], instance_id_prefix="oth")
        assert [s.instance_id for s in completed] == ["other-1"]
        assert await c.get_status_by(instance_id_prefix="nothing-") == []
        with pytest.raises(TypeError, match="instance_id_prefix"):
            await c.get_status_by(instance_id_prefix=5)  # type: ignore[arg-type]


async def test_links_with_and_without_a_request(
    hub_name: str, connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNCTIONS_CORETOOLS_ENVIRONMENT", "true")
    async with running(hub_name, connection_string) as env:
        c = env.client
        req = func.HttpRequest("POST", "http://example.test:8080/api/start?code=k9", body=b"")
        links = c.get_client_response_links(req, "inst 1")
        response = c.create_check_status_response(req, "inst 1")
        assert json.loads(response.get_body()) == links
        assert links["statusQueryGetUri"].startswith(
            "http://example.test:8080/runtime/webhooks/durabletask/instances/inst%201?"
        )
        assert links["statusQueryGetUri"].endswith("&code=k9")
        bare = c.get_client_response_links(None, "inst 1")
        assert bare == c.create_http_management_payload("inst 1")
        assert bare["statusQueryGetUri"].startswith("http://localhost:7071/")
        no_request = c.create_check_status_response(None, "inst 1")
        assert no_request.status_code == 202
        assert no_request.headers["Location"] == bare["statusQueryGetUri"]
        assert json.loads(no_request.get_body()) == bare


async def test_client_from_the_binding_string(
    hub_name: str, connection_string: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AzureWebJobsScriptRoot", str(tmp_path))  # no host.json there
    monkeypatch.setenv("GapsStorage", connection_string)
    base = "https://gaps.example.net/runtime/webhooks/durabletask"
    binding = json.dumps({
        "taskHubName": hub_name,
        "creationUrls": {},
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": f"{base}/instances/INSTANCEID?taskHub={hub_name}"
            "&connection=GapsStorage&code=abc",
        },
        "baseUrl": base,
    })
    async with running(hub_name, connection_string):
        client = DurableOrchestrationClient(binding, "invocation-7")
        assert client.task_hub_name == hub_name
        assert client.function_invocation_id == "invocation-7"
        iid = await client.start_new("cl_hello", "from-binding", "b")
        done = await wait_status(client, iid)
        assert done.runtime_status is S.Completed and done.output == ["b", "second"]
        links = client.create_http_management_payload(iid)
        # The binding's origin, and the path our management API answers at (its own).
        status_uri = links["statusQueryGetUri"]
        assert status_uri.startswith("https://gaps.example.net/")
        assert "/webhooks/durabletask/instances/from-binding?" in status_uri
        assert "connection=GapsStorage" in links["statusQueryGetUri"]
