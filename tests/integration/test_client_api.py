"""Every `DurableOrchestrationClient` method against Azurite, with a pump running the work."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import azure.functions as func
import pytest

from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
)
from tests.integration.test_client_apps import Env, running, wait_status

pytestmark = pytest.mark.azurite


def _request(url: str, **headers: str) -> func.HttpRequest:
    return func.HttpRequest("POST", url, headers=headers, body=b"")


async def test_status_and_history_shape(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        iid = await env.client.start_new("cl_hello", "hist-1", {"city": "Tokyo"})
        await wait_status(env.client, iid)
        bare = await env.client.get_status(iid)
        assert bare.input_ is None and bare.history is None
        st = await env.client.get_status(iid, show_history=True, show_input=True)
        assert st.input_ == {"city": "Tokyo"}
        assert st.output == [{"city": "Tokyo"}, "second"]
        assert st.created_time is not None and st.created_time.tzinfo is not None
        body = st.to_json()
        assert body["runtimeStatus"] == "Completed"
        assert body["createdTime"].endswith("Z") and len(body["createdTime"]) == 20
        kinds = [e["EventType"] for e in st.history or []]
        assert kinds == ["ExecutionStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"]
        started, first, _, completed = st.history or []
        assert started["FunctionName"] == "cl_hello" and started["Input"] == {"city": "Tokyo"}
        assert "InstanceId" not in started and "Name" not in started
        assert first["FunctionName"] == "cl_echo" and first["ScheduledTime"].endswith("Z")
        assert first["Input"] == {"city": "Tokyo"}
        assert "Result" not in first and "Result" not in completed
        assert "TaskScheduledId" not in first and "EventId" not in first
        with_output = await env.client.get_status(iid, show_history=True, show_history_output=True)
        events = with_output.history or []
        assert events[1]["Result"] == {"city": "Tokyo"} and "Input" not in events[1]
        assert events[-1]["Result"] == [{"city": "Tokyo"}, "second"]
        assert events[-1]["OrchestrationStatus"] == "Completed"
        missing = await env.client.get_status("no-such-instance")
        assert not missing


async def test_start_dedupe_and_restart(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        iid = await env.client.start_new("cl_wait_event", "dup-1", "first")
        with pytest.raises(InstanceAlreadyExistsError, match="dup-1"):
            await env.client.start_new("cl_wait_event", "dup-1")
        with pytest.raises(InstanceAlreadyExistsError):
            await env.client.restart(iid, restart_with_new_instance_id=False)
        await env.client.raise_event(iid, "go", 1)
        assert (await wait_status(env.client, iid)).output == {"got": 1, "input": "first"}
        # A finished id may be started again; the new run overwrites it.
        await env.client.start_new("cl_wait_event", "dup-1", "second")
        await wait_status(env.client, iid, (S.Running,))
        await env.client.raise_event(iid, "go", 2)
        assert (await wait_status(env.client, iid)).output == {"got": 2, "input": "second"}
        # restart: same input, new id by default, or the same id.
        new_id = await env.client.restart(iid)
        assert new_id != iid and len(new_id) == 32
        again = await env.client.restart(iid, restart_with_new_instance_id=False)
        assert again == iid
        for target in (new_id, iid):
            await wait_status(env.client, target, (S.Running,))
            await env.client.raise_event(target, "go", 3)
            assert (await wait_status(env.client, target)).output == {"got": 3, "input": "second"}
        with pytest.raises(InstanceNotFoundError):
            await env.client.restart("never-existed")


async def test_events_terminate_suspend_resume(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        c = env.client
        with pytest.raises(InstanceNotFoundError):
            await c.raise_event("nobody", "go")
        with pytest.raises(ValueError, match="event_name"):
            await c.raise_event("nobody", "")
        iid = await c.start_new("cl_wait_event", "ops-1")
        await wait_status(c, iid, (S.Running,))
        await c.suspend(iid, "pause")
        st = await wait_status(c, iid, (S.Suspended,))
        assert st.runtime_status is S.Suspended
        with pytest.raises(InvalidInstanceStateError, match="Suspended"):
            await c.suspend(iid)
        await c.raise_event(iid, "go", "while suspended")
        await c.resume(iid, "carry on")
        done = await wait_status(c, iid)
        assert done.output == {"got": "while suspended", "input": None}
        with pytest.raises(InvalidInstanceStateError, match="Completed"):
            await c.raise_event(iid, "go")
        await c.resume(iid)  # finished: left as it is (the SDK takes the 410 as success)
        await c.terminate(iid, "too late")  # finished: left as it is
        assert (await c.get_status(iid)).runtime_status is S.Completed

        victim = await c.start_new("cl_wait_event", "ops-2")
        await c.terminate(victim, "stop it")
        st = await wait_status(c, victim)
        assert st.runtime_status is S.Terminated and st.output == "stop it"
        with pytest.raises(InstanceNotFoundError):
            await c.terminate("nobody")


async def test_rewind_failed_activity(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        token = uuid.uuid4().hex
        iid = await env.client.start_new("cl_flaky", "rw-1", token)
        failed = await wait_status(env.client, iid)
        assert failed.runtime_status is S.Failed, failed.output
        await env.client.rewind(iid, "fixed it")
        done = await wait_status(env.client, iid, (S.Completed,))
        assert done.output == ["before", f"ok {token}"]
        history = (await env.worker.hub.history.load_history(iid)).events
        kinds = [e.event_type for e in history]
        # The failure is kept as GenericEvent rows; the successful first call ran once.
        assert kinds.count(EventType.GenericEvent) >= 4
        names = [e.name for e in history if e.event_type is EventType.TaskScheduled]
        assert names == ["cl_echo", "cl_flaky_activity"]
        with pytest.raises(InvalidInstanceStateError, match="only Failed"):
            await env.client.rewind(iid, "again")
        with pytest.raises(InstanceNotFoundError):
            await env.client.rewind("nobody", "x")


async def test_rewind_failed_sub_orchestration(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        token = uuid.uuid4().hex
        iid = await env.client.start_new("cl_parent", "rw-parent", token)
        assert (await wait_status(env.client, iid)).runtime_status is S.Failed
        children = [
            s for s in await env.client.get_status_all() if s.instance_id != iid
        ]
        assert [c.runtime_status for c in children] == [S.Failed]
        await env.client.rewind(iid, "retry the child")
        done = await wait_status(env.client, iid, (S.Completed,))
        assert done.output == {"child": ["before", f"ok {token}"]}
        child = await env.client.get_status(children[0].instance_id or "")
        assert child.runtime_status is S.Completed


async def _finished(env: Env, name: str, count: int) -> list[str]:
    ids = [await env.client.start_new("cl_hello", f"{name}-{i}", i) for i in range(count)]
    for iid in ids:
        await wait_status(env.client, iid)
    return ids


async def test_queries_and_purge(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        c = env.client
        t0 = datetime.now(UTC) - timedelta(seconds=1)
        done = await _finished(env, "q", 3)
        waiting = await c.start_new("cl_wait_event", "q-wait")
        await wait_status(c, waiting, (S.Running,))
        everything = await c.get_status_all()
        assert sorted(s.instance_id or "" for s in everything) == sorted([*done, waiting])
        assert all(s.input_ is not None for s in everything if s.instance_id in done)
        running_only = await c.get_status_by(runtime_status=[S.Running])
        assert [s.instance_id for s in running_only] == [waiting]
        assert await c.get_status_by(created_time_to=t0) == []
        in_range = await c.get_status_by(t0, datetime.now(UTC) + timedelta(seconds=5))
        assert len(in_range) == 4
        page, token = await c.get_status_page(page_size=2)
        assert len(page) == 2 and token
        rest, token = await c.get_status_page(page_size=10, continuation_token=token)
        assert len(rest) == 2 and token is None

        assert (await c.purge_instance_history(done[0])).instances_deleted == 1
        assert not await c.get_status(done[0])
        assert (await c.purge_instance_history(done[0])).instances_deleted == 0
        assert (await env.worker.hub.history.load_history(done[0])).events == []
        purged = await c.purge_instance_history_by(t0, None, [S.Completed])
        assert purged.instances_deleted == 2
        left = await c.get_status_all()
        assert [s.instance_id for s in left] == [waiting]


async def test_check_status_links_and_wait(
    hub_name: str, connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(hub_name, connection_string) as env:
        c = env.client
        monkeypatch.setenv("FUNCTIONS_CORETOOLS_ENVIRONMENT", "true")
        req = _request("http://localhost:7071/api/start?code=k1")
        resp = c.create_check_status_response(req, "id 1")
        assert resp.status_code == 202 and resp.headers["Retry-After"] == "10"
        assert resp.mimetype == "application/json"
        body = json.loads(resp.get_body())
        base = "http://localhost:7071/runtime/webhooks/durabletask/instances/id%201"
        query = f"taskHub={hub_name}&connection=Storage&code=k1"
        assert body["statusQueryGetUri"] == f"{base}?{query}"
        assert resp.headers["Location"] == body["statusQueryGetUri"]
        assert body["sendEventPostUri"] == f"{base}/raiseEvent/{{eventName}}?{query}"
        assert body["terminatePostUri"] == f"{base}/terminate?reason={{text}}&{query}"
        for key in ("rewindPostUri", "suspendPostUri", "resumePostUri"):
            assert body[key].startswith(f"{base}/{key[:-7]}?reason={{text}}&")
        assert body["purgeHistoryDeleteUri"] == body["statusQueryGetUri"]
        assert body["restartPostUri"] == f"{base}/restart?{query}"
        assert body["id"] == "id 1"

        monkeypatch.delenv("FUNCTIONS_CORETOOLS_ENVIRONMENT")
        header_req = _request("https://app.azurewebsites.net/api/start", **{
            "x-functions-key": "hostkey"
        })
        azure = json.loads(c.create_check_status_response(header_req, "x").get_body())
        assert azure["statusQueryGetUri"] == (
            "https://app.azurewebsites.net/api/webhooks/durabletask/instances/x"
            f"?taskHub={hub_name}&connection=Storage&code=hostkey"
        )
        monkeypatch.setenv("WEBSITE_HOSTNAME", "app.azurewebsites.net")
        payload = c.create_http_management_payload("x")
        assert payload["statusQueryGetUri"].startswith("https://app.azurewebsites.net/api/")
        assert "code=" not in payload["statusQueryGetUri"]

        iid = await c.start_new("cl_hello", "wait-1", "w")
        ok = await c.wait_for_completion_or_create_check_status_response(req, iid, 20000, 50)
        assert ok.status_code == 200 and json.loads(ok.get_body()) == ["w", "second"]
        slow = await c.start_new("cl_wait_event", "wait-2")
        late = await c.wait_for_completion_or_create_check_status_response(req, slow, 200, 50)
        assert late.status_code == 202 and late.headers["Location"]
        await c.terminate(slow, "bye")
        gone = await c.wait_for_completion_or_create_check_status_response(req, slow, 20000, 50)
        assert gone.status_code == 200
        assert json.loads(gone.get_body())["runtimeStatus"] == "Terminated"
        bad = await c.start_new("cl_flaky", "wait-3", uuid.uuid4().hex)
        failed = await c.wait_for_completion_or_create_check_status_response(req, bad, 20000, 50)
        assert failed.status_code == 500
        assert json.loads(failed.get_body())["runtimeStatus"] == "Failed"
        with pytest.raises(ValueError, match="retry interval"):
            await c.wait_for_completion_or_create_check_status_response(req, bad, 10, 100)
