"""The HTTP management API, called in-process the way the Functions host calls it, while a
pump runs the orchestrations: every endpoint and the status codes it answers with."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import azure.functions as func
import pytest

from durable.app.management import handle
from durable.core.status import OrchestrationRuntimeStatus as S
from tests.integration.test_client_apps import Env, running, wait_status

pytestmark = pytest.mark.azurite

LOCAL = "http://localhost:7071/runtime/webhooks/durabletask"


async def call(
    env: Env,
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
) -> func.HttpResponse:
    """The request a host makes for `/runtime/webhooks/durabletask/{path}`."""
    query = {"taskHub": env.hub_name, **(params or {})}
    quoted = "/".join(quote(s, safe="") for s in path.split("/"))
    req = func.HttpRequest(
        method,
        f"{LOCAL}/{quoted}?{urlencode(query)}",
        headers=headers or {},
        params=query,
        route_params={"path": path},
        body=body.encode() if isinstance(body, str) else body,
    )
    return await handle(req)


async def follow(url: str, method: str, body: bytes = b"", **headers: str) -> func.HttpResponse:
    """Call the handler for a link it handed out, with only the URL (no route values)."""
    params = dict(parse_qsl(urlsplit(url).query))
    req = func.HttpRequest(method, url, headers=headers, params=params, body=body)
    return await handle(req)


def body_of(resp: func.HttpResponse) -> Any:
    text = resp.get_body()
    return json.loads(text) if text else None


async def start(env: Env, name: str, iid: str | None = None, data: Any = None) -> str:
    path = f"orchestrators/{name}" + (f"/{iid}" if iid else "")
    resp = await call(env, "POST", path, body=json.dumps(data) if data is not None else b"")
    assert resp.status_code == 202, body_of(resp)
    return str(body_of(resp)["id"])


async def failed_instance(env: Env, iid: str) -> str:
    await start(env, "cl_flaky", iid, uuid.uuid4().hex)
    assert (await wait_status(env.client, iid)).runtime_status is S.Failed
    return iid


async def test_start_endpoint(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        resp = await call(env, "POST", "orchestrators/cl_hello", body='{"a": 1}')
        assert resp.status_code == 202
        body = body_of(resp)
        assert resp.headers["Location"] == body["statusQueryGetUri"]
        assert resp.headers["Retry-After"] == "10"
        assert body["statusQueryGetUri"].startswith(f"{LOCAL}/instances/{body['id']}?taskHub=")
        st = await wait_status(env.client, body["id"])
        assert st.input_ == {"a": 1} and st.output == [{"a": 1}, "second"]
        assert (await start(env, "cl_wait_event", "named-1")) == "named-1"
        assert (await env.client.get_status("named-1", show_input=True)).input_ is None

        conflict = await call(env, "POST", "orchestrators/cl_wait_event/named-1")
        assert conflict.status_code == 409 and "already exists" in body_of(conflict)["Message"]
        for path, data, needle in (
            ("orchestrators/cl_hello", "{not json", "not valid JSON"),
            ("orchestrators/cl_missing", "", "'cl_missing' does not exist"),
            ("orchestrators/cl_hello/@bad", "", "must not start with '@'"),
        ):
            bad = await call(env, "POST", path, body=data)
            assert bad.status_code == 400, body_of(bad)
            err = body_of(bad)
            assert err["Message"] == "One or more of the arguments submitted is incorrect"
            assert needle in err["ExceptionMessage"]
            assert "Traceback" not in bad.get_body().decode()

        waited = await call(
            env, "POST", "orchestrators/cl_hello", {"timeout": "20", "pollingInterval": "0.05"}, "5"
        )
        assert waited.status_code == 200 and body_of(waited) == [5, "second"]
        timed_out = await call(
            env, "POST", "orchestrators/cl_wait_event", {"timeout": "0.2", "pollingInterval": "0.1"}
        )
        assert timed_out.status_code == 202 and body_of(timed_out)["id"]
        failing = await call(
            env, "POST", "orchestrators/cl_flaky", {"timeout": "20", "pollingInterval": "0.05"},
            json.dumps(uuid.uuid4().hex),
        )
        assert failing.status_code == 200 and body_of(failing)["runtimeStatus"] == "Failed"
        bad_wait = await call(
            env, "POST", "orchestrators/cl_hello", {"timeout": "1", "pollingInterval": "5"}
        )
        assert bad_wait.status_code == 400


async def test_status_endpoint(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        iid = await start(env, "cl_wait_event", "st-1", "in")
        await wait_status(env.client, iid, (S.Running,))
        resp = await call(env, "GET", f"instances/{iid}")
        assert resp.status_code == 202
        assert resp.headers["Retry-After"] == "5" and "instances/st-1" in resp.headers["Location"]
        assert body_of(resp)["input"] == "in"  # showInput defaults to true
        hidden = await call(env, "GET", f"instances/{iid}", {"showInput": "false"})
        assert body_of(hidden)["input"] is None
        await env.client.raise_event(iid, "go", 7)
        await wait_status(env.client, iid)
        done = await call(
            env, "GET", f"instances/{iid}", {"showHistory": "true", "showHistoryOutput": "true"}
        )
        assert done.status_code == 200 and "Location" not in done.headers
        body = body_of(done)
        assert body["output"] == {"got": 7, "input": "in"}
        kinds = [e["EventType"] for e in body["historyEvents"]]
        assert kinds == ["ExecutionStarted", "EventRaised", "ExecutionCompleted"]
        assert body["historyEvents"][-1]["Result"] == {"got": 7, "input": "in"}
        assert "historyEvents" not in body_of(await call(env, "GET", f"instances/{iid}"))

        failed = await failed_instance(env, "st-2")
        assert (await call(env, "GET", f"instances/{failed}")).status_code == 200
        flagged = await call(
            env, "GET", f"instances/{failed}", {"returnInternalServerErrorOnFailure": "true"}
        )
        assert flagged.status_code == 500 and body_of(flagged)["runtimeStatus"] == "Failed"
        missing = await call(env, "GET", "instances/nobody")
        assert missing.status_code == 404 and "nobody" in body_of(missing)["Message"]
        bad_flag = await call(env, "GET", f"instances/{iid}", {"showHistory": "maybe"})
        assert bad_flag.status_code == 400
        assert "showHistory" in body_of(bad_flag)["ExceptionMessage"]


async def test_list_endpoint_paging_and_filters(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        done = [await start(env, "cl_hello", f"ls-{i}", i) for i in range(5)]
        for iid in done:
            await wait_status(env.client, iid)
        waiting = await start(env, "cl_wait_event", "other-1")
        await wait_status(env.client, waiting, (S.Running,))
        seen: list[str] = []
        token: str | None = None
        pages = 0
        while True:
            headers = {"x-ms-continuation-token": token} if token else {}
            resp = await call(env, "GET", "instances", {"top": "2"}, headers=headers)
            assert resp.status_code == 200
            page = body_of(resp)
            assert len(page) <= 2
            seen += [s["instanceId"] for s in page]
            pages += 1
            token = resp.headers.get("x-ms-continuation-token")
            if not token:
                break
        assert pages == 3 and sorted(seen) == sorted([*done, waiting])
        running_only = body_of(await call(env, "GET", "instances", {"runtimeStatus": "Running"}))
        assert [s["instanceId"] for s in running_only] == [waiting]
        both = await call(env, "GET", "instances", {"runtimeStatus": "running,completed"})
        assert len(body_of(both)) == 6
        prefixed = body_of(await call(env, "GET", "instances", {"instanceIdPrefix": "ls-"}))
        assert sorted(s["instanceId"] for s in prefixed) == sorted(done)
        future = await call(env, "GET", "instances", {"createdTimeFrom": "2999-01-01T00:00:00Z"})
        assert body_of(future) == []
        no_input = body_of(await call(env, "GET", "instances", {"showInput": "false"}))
        assert all(s["input"] is None for s in no_input)
        for params in ({"runtimeStatus": "Sleeping"}, {"createdTimeTo": "yesterday"},
                       {"top": "0"}):
            assert (await call(env, "GET", "instances", params)).status_code == 400
        bad_token = await call(env, "GET", "instances", headers={"x-ms-continuation-token": "!"})
        assert bad_token.status_code == 400


async def test_event_and_lifecycle_endpoints(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        iid = await start(env, "cl_wait_event", "ev-1")
        await wait_status(env.client, iid, (S.Running,))
        json_header = {"Content-Type": "application/json"}
        path = f"instances/{iid}/raiseEvent/go"
        not_json = await call(env, "POST", path, body="{oops", headers=json_header)
        assert not_json.status_code == 400
        text_header = {"Content-Type": "text/plain"}
        wrong_type = await call(env, "POST", path, body='"x"', headers=text_header)
        assert wrong_type.status_code == 400
        assert "application/json" in wrong_type.get_body().decode()
        missing = await call(env, "POST", "instances/nobody/raiseEvent/go", body="1",
                             headers=json_header)
        assert missing.status_code == 404

        assert (await call(env, "POST", f"instances/{iid}/suspend", {"reason": "r"})).status_code \
            == 202
        await wait_status(env.client, iid, (S.Suspended,))
        again = await call(env, "POST", f"instances/{iid}/suspend")
        assert again.status_code == 409 and "Suspended" in body_of(again)["Message"]
        raised = await call(env, "POST", path, body='{"n": 1}', headers=json_header)
        assert raised.status_code == 202
        assert (await call(env, "POST", f"instances/{iid}/resume")).status_code == 202
        st = await wait_status(env.client, iid)
        assert st.output == {"got": {"n": 1}, "input": None}
        for op in ("raiseEvent/go", "terminate", "suspend", "resume"):
            gone = await call(env, "POST", f"instances/{iid}/{op}", body="1", headers=json_header)
            assert gone.status_code == 410, op
            missing = await call(env, "POST", f"instances/nobody/{op}", body="1",
                                 headers=json_header)
            assert missing.status_code == 404, op

        other = await start(env, "cl_wait_event", "ev-2")
        assert (await call(env, "POST", f"instances/{other}/resume")).status_code == 409
        stop = await call(env, "POST", f"instances/{other}/terminate", {"reason": "enough"})
        assert stop.status_code == 202
        st = await wait_status(env.client, other)
        assert st.runtime_status is S.Terminated and st.output == "enough"


async def test_rewind_and_restart_endpoints(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        iid = await failed_instance(env, "rw-1")
        resp = await call(env, "POST", f"instances/{iid}/rewind", {"reason": "try again"})
        assert resp.status_code == 202
        assert (await wait_status(env.client, iid, (S.Completed,))).output[0] == "before"
        assert (await call(env, "POST", f"instances/{iid}/rewind")).status_code == 410
        assert (await call(env, "POST", "instances/nobody/rewind")).status_code == 404
        live = await start(env, "cl_wait_event", "rw-2")
        await wait_status(env.client, live, (S.Running,))
        refused = await call(env, "POST", f"instances/{live}/rewind")
        assert refused.status_code == 409 and "only Failed" in body_of(refused)["Message"]

        restarted = await call(env, "POST", f"instances/{iid}/restart")
        assert restarted.status_code == 202
        new_id = body_of(restarted)["id"]
        assert new_id != iid
        assert restarted.headers["Location"].endswith(f"taskHub={hub_name}&connection=Storage")
        same = await call(env, "POST", f"instances/{iid}/restart",
                          {"restartWithNewInstanceId": "false"})
        assert same.status_code == 202 and body_of(same)["id"] == iid
        for target in (new_id, iid):
            assert (await wait_status(env.client, target)).runtime_status is S.Completed
        unknown = await call(env, "POST", "instances/nobody/restart")
        assert unknown.status_code == 400 and "nobody" in body_of(unknown)["ExceptionMessage"]
        dup = await call(env, "POST", f"instances/{live}/restart",
                         {"restartWithNewInstanceId": "false"})
        assert dup.status_code == 409


async def test_purge_endpoints(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        ids = [await start(env, "cl_hello", f"pg-{i}", i) for i in range(3)]
        for iid in ids:
            await wait_status(env.client, iid)
        one = await call(env, "DELETE", f"instances/{ids[0]}")
        assert one.status_code == 200 and body_of(one) == {"instancesDeleted": 1}
        assert (await call(env, "DELETE", f"instances/{ids[0]}")).status_code == 404
        no_from = await call(env, "DELETE", "instances")
        assert no_from.status_code == 400 and "createdTimeFrom" in no_from.get_body().decode()
        none = await call(env, "DELETE", "instances",
                          {"createdTimeFrom": "2000-01-01T00:00:00Z", "runtimeStatus": "Failed"})
        assert none.status_code == 404
        many = await call(env, "DELETE", "instances",
                          {"createdTimeFrom": "2000-01-01T00:00:00Z", "runtimeStatus": "Completed"})
        assert many.status_code == 200 and body_of(many) == {"instancesDeleted": 2}
        assert await env.client.get_status_all() == []


async def test_unknown_routes_and_errors(
    hub_name: str, connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(hub_name, connection_string) as env:
        for method, path in (("GET", "nothing/here"), ("PUT", "instances"), ("GET", ""),
                             ("POST", "instances/x/explode"), ("GET", "orchestrators/cl_hello")):
            resp = await call(env, method, path)
            assert resp.status_code == 404, (method, path)
            assert "Message" in body_of(resp)
        bad_hub = await call(env, "GET", "instances", {"taskHub": "no_underscores_allowed!"})
        assert bad_hub.status_code == 400
        missing_setting = await call(env, "GET", "instances", {"connection": "NoSuchSetting"})
        assert missing_setting.status_code == 400
        assert "NoSuchSetting" in body_of(missing_setting)["ExceptionMessage"]
        # Storage that cannot be reached is a 503 naming the endpoint (no key, no trace).
        monkeypatch.setenv(
            "UnreachableStorage",
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
            "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"
            "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;"
            "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;",
        )
        broken = await call(env, "GET", "instances/x", {"connection": "UnreachableStorage"})
        assert broken.status_code == 503
        message = body_of(broken)["Message"]
        assert "unreachable at http://127.0.0.1:9/devstoreaccount1" in message
        assert "a2V5" not in message and "Traceback" not in message


async def test_check_status_links_lead_to_the_api(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        req = func.HttpRequest("POST", "http://localhost:7071/api/starter", body=b"",
                               params={"code": "abc"})
        iid = await env.client.start_new("cl_wait_event", "link-1", "x")
        links = body_of(env.client.create_check_status_response(req, iid))
        assert "code=abc" in links["statusQueryGetUri"]
        await wait_status(env.client, iid, (S.Running,))
        assert (await follow(links["statusQueryGetUri"], "GET")).status_code == 202
        suspend = links["suspendPostUri"].replace("{text}", "pause")
        assert (await follow(suspend, "POST")).status_code == 202
        await wait_status(env.client, iid, (S.Suspended,))
        resume = links["resumePostUri"].replace("{text}", "go")
        assert (await follow(resume, "POST")).status_code == 202
        await wait_status(env.client, iid, (S.Running,))
        event = links["sendEventPostUri"].replace("{eventName}", "go")
        sent = await follow(event, "POST", b'"yes"', **{"Content-Type": "application/json"})
        assert sent.status_code == 202
        assert (await wait_status(env.client, iid)).output == {"got": "yes", "input": "x"}
        assert (await follow(links["statusQueryGetUri"], "GET")).status_code == 200
        rewind = links["rewindPostUri"].replace("{text}", "no")
        assert (await follow(rewind, "POST")).status_code == 410
        restarted = await follow(links["restartPostUri"], "POST")
        assert restarted.status_code == 202
        new_links = body_of(restarted)
        assert "code=abc" in new_links["terminatePostUri"]
        terminate = new_links["terminatePostUri"].replace("{text}", "done")
        assert (await follow(terminate, "POST")).status_code == 202
        await wait_status(env.client, new_links["id"])
        assert (await follow(links["purgeHistoryDeleteUri"], "DELETE")).status_code == 200
        assert (await follow(links["statusQueryGetUri"], "GET")).status_code == 404
