"""call_http end to end: a worker on Azurite sends the requests to a real aiohttp server the
test starts on loopback, and the server counts what it receives."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from durable.app.root import process
from durable.client import DurableOrchestrationClient
from durable.core.actions import HTTP_ACTIVITY_NAME
from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.integration import http_functions  # noqa: F401 (registers the orchestrators)
from tests.support.hubs import poll_until, running_hub, wait_for_status
from tests.support.pump import QueuePump


@dataclass
class Server:
    """The test's HTTP server: its base URL and what it received."""

    base: str
    hits: Counter[str] = field(default_factory=Counter)
    seen: list[dict[str, Any]] = field(default_factory=list)


def _routes(server: Server) -> web.Application:
    def record(request: web.Request, body: str = "") -> None:
        server.hits[request.path] += 1
        server.seen.append({"method": request.method, "path": request.path, "body": body,
                            "headers": dict(request.headers)})

    async def hello(request: web.Request) -> web.Response:
        record(request)
        return web.Response(text="hello", headers={"X-Reply": "r1"})

    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        record(request, body)
        return web.json_response({"method": request.method, "body": body,
                                  "type": request.headers.get("Content-Type")},
                                 headers={"X-Reply": "echoed"})

    async def start_job(request: web.Request) -> web.Response:
        record(request, await request.text())
        return web.Response(status=202, headers={"Location": "/jobs/1/status",
                                                 "Retry-After": "1"})

    async def job_status(request: web.Request) -> web.Response:
        record(request)
        if server.hits[request.path] < 3:
            return web.Response(status=202, headers={"Location": "/jobs/1/status"})
        return web.Response(text="job done")

    async def failing(request: web.Request) -> web.Response:
        record(request)
        return web.Response(status=500, text="it broke")

    async def slow(request: web.Request) -> web.Response:
        record(request)
        await asyncio.sleep(20)
        return web.Response(text="too late")

    async def whoami(request: web.Request) -> web.Response:
        record(request)
        return web.Response(text=request.headers.get("Authorization", "none"))

    async def identity(request: web.Request) -> web.Response:
        # App Service's managed identity endpoint, as azure-identity calls it.
        record(request)
        if request.headers.get("X-IDENTITY-HEADER") != "id-secret":
            return web.json_response({"error": "bad header"}, status=401)
        return web.json_response({
            "access_token": "token-for-" + request.query.get("resource", "?"),
            "expires_on": str(int(time.time()) + 3600),
            "resource": request.query.get("resource"),
            "token_type": "Bearer",
        })

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/jobs", start_job)
    app.router.add_get("/jobs/1/status", job_status)
    app.router.add_get("/fail", failing)
    app.router.add_get("/slow", slow)
    app.router.add_get("/whoami", whoami)
    app.router.add_get("/msi/token", identity)
    return app


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(base="")
    test_server = TestServer(_routes(state), host="127.0.0.1", port=0)
    await test_server.start_server()
    state.base = str(test_server.make_url("")).rstrip("/")
    try:
        yield state
    finally:
        await test_server.close()


@pytest.fixture(params=[True, False], ids=["sessions", "replay"])
def settings(
    connection_string: str, hub_name: str, request: pytest.FixtureRequest
) -> TaskHubSettings:
    return TaskHubSettings(
        hub_name=hub_name,
        connection_string=connection_string,
        extended_sessions_enabled=request.param,
        http_default_async_request_sleep=timedelta(seconds=1),
    )


async def test_get_headers_both_ways_and_replay_sends_nothing_again(
    settings: TaskHubSettings, server: Server
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_get_twice", client_input=server.base)
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        first = st.output["first"]
        assert first["statusCode"] == 200 and first["content"] == "hello"
        assert first["headers"]["X-Reply"] == "r1"
        assert st.output["middle"] == "Hello between!" and st.output["second"] == 200
        # Three episodes replayed the first request (fully, without sessions): sent once.
        assert server.hits["/hello"] == 2
        assert server.seen[0]["headers"]["X-Caller"] == "durable"
        events = (await r.hub.history.load_history(iid)).events
        http = [e for e in events
                if e.event_type is EventType.TaskScheduled and e.name == HTTP_ACTIVITY_NAME]
        assert len(http) == 2
        assert json.loads(http[0].input or "")[0]["uri"] == f"{server.base}/hello"


async def test_post_with_a_json_body_and_a_raw_string(
    settings: TaskHubSettings, server: Server
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_post_json", client_input=server.base)
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output["status"] == 200 and st.output["reply_header"] == "echoed"
        assert json.loads(st.output["echo"]) == {
            "method": "POST", "body": '{"order": 7, "items": ["a"]}', "type": "application/json"
        }
        # A body without a Content-Type header goes as text/plain, as in Durable Functions.
        assert json.loads(st.output["raw"]) == {
            "method": "PUT", "body": "plain text", "type": "text/plain"
        }
        assert server.seen[0]["headers"]["X-Trace"] == "t-1"


async def test_202_then_200_is_polled_on_durable_timers(
    settings: TaskHubSettings, server: Server
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_long_job", client_input=server.base)
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == {"status": 200, "content": "job done"}
        assert server.hits["/jobs"] == 1 and server.hits["/jobs/1/status"] == 3
        polls = [s for s in server.seen if s["path"] == "/jobs/1/status"]
        assert all(p["method"] == "GET" for p in polls)
        assert all("x-functions-key" not in {k.lower() for k in p["headers"]} for p in polls)
        assert all(p["headers"].get("X-Keep") == "yes" for p in polls)
        events = (await r.hub.history.load_history(iid)).events
        timers = [e for e in events if e.event_type is EventType.TimerCreated]
        fired = [e for e in events if e.event_type is EventType.TimerFired]
        assert len(timers) == 3 and len(fired) == 3


async def test_a_500_is_a_response_not_a_failure(
    settings: TaskHubSettings, server: Server
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_status_only", client_input=f"{server.base}/fail")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == {"status": 500, "content": "it broke"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_an_error_the_orchestrator_catches(
    settings: TaskHubSettings,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/nothing"
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_catching", client_input={"url": url})
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output["error"] == "HttpConnectionError"
        assert "could not connect" in st.output["message"]


async def test_a_timeout_is_an_error_the_orchestrator_catches(
    settings: TaskHubSettings, server: Server
) -> None:
    args = {"url": f"{server.base}/slow", "timeout": 1}
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_catching", client_input=args)
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output["error"] == "HttpTimeoutError"
        assert "within 1 seconds" in st.output["message"]


async def test_a_bad_uri_fails_the_orchestration_with_a_clear_message(
    settings: TaskHubSettings,
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_bad_uri")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Failed
        assert "call_http uri must be an absolute http:// or https:// URI" in str(st.output)


_AZURE_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
                    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
                    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_AUTHORITY_HOST")


async def test_managed_identity_locally_without_credentials_fails_fast_and_clearly(
    connection_string: str, hub_name: str, server: Server, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    for name in _AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # No az/azd/pwsh sign-in to find: an empty PATH and HOME for the credential chain.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    args = {"url": f"{server.base}/whoami", "resource": "https://management.core.windows.net/"}
    async with running_hub(settings) as r:
        started = time.monotonic()
        iid = await r.client.start_new("http_catching", client_input=args)
        st = await wait_for_status(r.client, iid, timeout=60)
        assert time.monotonic() - started < 45  # bounded, not a hang
        assert st.runtime_status is S.Completed, st.output
        assert st.output["error"] == "TokenAcquisitionError", st.output
        assert "az login" in st.output["message"]
        assert server.hits["/whoami"] == 0  # the request was not sent without its token


async def test_managed_identity_deployed_sends_the_identitys_bearer_token(
    connection_string: str, hub_name: str, server: Server, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in _AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # What App Service sets for an app with a managed identity (here: the test's server).
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{server.base}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "id-secret")
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    args = {"url": f"{server.base}/whoami", "resource": "https://vault.azure.net"}
    async with running_hub(settings) as r:
        iid = await r.client.start_new("http_catching", client_input=args)
        st = await wait_for_status(r.client, iid, timeout=60)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == {"status": 200, "content": "Bearer token-for-https://vault.azure.net"}
        assert server.hits["/msi/token"] == 1


async def test_a_host_restart_while_polling_goes_on_without_sending_the_post_again(
    connection_string: str, hub_name: str, server: Server
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string,
                               http_default_async_request_sleep=timedelta(seconds=1))
    first = TaskHub(settings)
    await first.create_if_not_exists()
    worker = DurableWorker(settings, first, process.registry)
    client = DurableOrchestrationClient(settings, first, functions=process.registry)
    async with QueuePump(worker):
        iid = await client.start_new("http_long_job", client_input=server.base)

        async def polled_once() -> bool:
            return server.hits["/jobs/1/status"] >= 1

        await poll_until(polled_once)
        before = await client.get_status(iid)
        assert before.runtime_status is S.Running  # stopped in the middle of the polling
    await worker.close()  # the host stops: its in-process work goes back to the queues
    second = TaskHub(settings)
    try:
        async with running_worker(settings, second) as client2:
            st = await wait_for_status(client2, iid)
            assert st.runtime_status is S.Completed, st.output
            assert st.output == {"status": 200, "content": "job done"}
            assert server.hits["/jobs"] == 1
            assert server.hits["/jobs/1/status"] >= 3
    finally:
        await second.delete()
        await second.close()


@asynccontextmanager
async def running_worker(
    settings: TaskHubSettings, hub: TaskHub
) -> AsyncIterator[DurableOrchestrationClient]:
    worker = DurableWorker(settings, hub, process.registry)
    async with QueuePump(worker):
        yield DurableOrchestrationClient(settings, hub, functions=process.registry)
