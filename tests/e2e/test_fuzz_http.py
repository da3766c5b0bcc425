"""The management API and HTTP starters fuzzed through a running host: malformed and huge
bodies, odd instance ids, unknown event names, wrong methods, bad query parameters, and a
seeded random barrage. Every bad request gets a 4xx with a JSON message (never a 500 or a
traceback), the host keeps serving, and the task hub stays consistent: what was accepted
runs to completion, nothing fails in the dispatchers, nothing is poisoned.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from bench.chaos_report import delete_poison_queues, poison_counts
from durable.client import DurableOrchestrationClient
from durable.core.history import EventType
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.conftest import DEV_CONNECTION_STRING
from tests.e2e.conftest import HostProcess

pytestmark = pytest.mark.slow

API = "runtime/webhooks/durabletask"
ACCOUNT_KEY = DEV_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]
ODD_IDS = ["a/b", "a#b", "a?b", "%2F", "ünïcødé-☃", "x" * 10240, " ", "a b", "\x00", "\x1f",
           "@entity", "a\\b", "\u202e", "%", "a%zz", "😀", "'; DROP TABLE --", "a" * 257]
# Ids Durable Functions accepts, odd as they look: starting them must work end to end.
ACCEPTED_IDS = ["%2F", "ünïcødé-☃", "a b", "\u202e", "%", "a%zz", "😀", "'; DROP TABLE --"]
BAD_BODIES = [b"{bad", b"[1,", b"\xff\xfe\x00", b'{"a": 1}}', b"\x00\x01", b"[" * 100_000,
              b"{" * 50_000, b'"unterminated']


def is_valid_id(instance_id: str) -> bool:
    return instance_id in ACCEPTED_IDS


@pytest.fixture(scope="module")
def hub_name() -> str:
    return "fz" + uuid.uuid4().hex[:16]


@pytest.fixture(scope="module")
def host(azurite: str, hub_name: str) -> Iterator[HostProcess]:
    process = HostProcess("chaos_app", {"TEST_HUB_NAME": hub_name, "AzureWebJobsStorage": azurite})
    try:
        process.wait_ready()
        yield process
    finally:
        if process.process.poll() is None:
            assert process.stop() == 0
        assert ACCOUNT_KEY not in process.output
        assert "Traceback" not in process.output, process.output[-4000:]
        assert "(Failed," not in process.output, process.output[-4000:]


@pytest.fixture
async def hub(azurite: str, hub_name: str, host: HostProcess) -> AsyncIterator[TaskHub]:
    hub = TaskHub(TaskHubSettings(hub_name=hub_name, connection_string=azurite))
    try:
        yield hub
    finally:
        await hub.close()


@pytest.fixture(scope="module", autouse=True)
def delete_hub_afterwards(azurite: str, hub_name: str) -> Iterator[None]:
    yield

    async def delete() -> None:
        async with TaskHub(TaskHubSettings(hub_name=hub_name, connection_string=azurite)) as hub:
            await delete_poison_queues(hub)
            await hub.delete()

    asyncio.run(delete())


def call(host: HostProcess, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> requests.Response:
    return requests.request(method, host.url(path), data=body, headers=headers, timeout=60)


def assert_client_error(resp: requests.Response, *statuses: int) -> dict[str, Any]:
    """A 4xx (one of `statuses` if given) with a JSON object that says what went wrong."""
    where = f"{resp.request.method} {str(resp.request.url)[:120]}"
    assert 400 <= resp.status_code < 500, (where, resp.status_code, resp.text[:500])
    if statuses:
        assert resp.status_code in statuses, (where, resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), where
    body = resp.json()
    assert isinstance(body, dict) and (body.get("Message") or body.get("error")), body
    text = resp.text
    assert "Traceback" not in text and ACCOUNT_KEY not in text, text[:500]
    return body


def test_odd_instance_ids(host: HostProcess) -> None:
    for iid in ODD_IDS:
        quoted = quote(iid, safe="")
        assert_client_error(call(host, "GET", f"{API}/instances/{quoted}"), 404)
        assert_client_error(call(host, "POST", f"{API}/instances/{quoted}/terminate"), 404)
        assert_client_error(call(host, "POST", f"{API}/instances/{quoted}/raiseEvent/go",
                                 b"1", {"Content-Type": "application/json"}), 404)
        assert_client_error(call(host, "DELETE", f"{API}/instances/{quoted}"), 404)
        if is_valid_id(iid):
            continue
        body = assert_client_error(call(host, "POST", f"{API}/orchestrators/chain/{quoted}"))
        if "/" not in iid:  # a '/' splits the path: no such endpoint, a 404
            assert "instance_id" in body["ExceptionMessage"], body
        body = assert_client_error(call(host, "POST", f"api/start/chain?id={quoted}"), 400)
        assert "instance_id" in body["error"]


async def test_accepted_odd_ids_run_to_completion(host: HostProcess, hub: TaskHub) -> None:
    for iid in ACCEPTED_IDS:
        resp = call(host, "POST", f"{API}/orchestrators/chain/{quote(iid, safe='')}")
        assert resp.status_code == 202, (iid, resp.text)
        assert resp.json()["id"] == iid
    for iid in ACCEPTED_IDS:
        status = await wait_finished(hub, iid)
        assert status.output == [f"{iid}:{i}!" for i in range(3)], iid
        resp = call(host, "GET", f"{API}/instances/{quote(iid, safe='')}")
        assert resp.status_code == 200 and resp.json()["instanceId"] == iid


def test_malformed_and_huge_bodies(host: HostProcess) -> None:
    json_type = {"Content-Type": "application/json"}
    for body in BAD_BODIES:
        message = assert_client_error(
            call(host, "POST", f"{API}/orchestrators/chain", body, json_type), 400
        )
        assert "JSON" in message["ExceptionMessage"] or "decode" in message["ExceptionMessage"]
        assert_client_error(call(host, "POST", "api/start/chain", body, json_type), 400)
    # A 5 MB input is not an error: it travels through the large-message container.
    big = json.dumps("x" * 5 * 1024 * 1024).encode()
    assert call(host, "POST", f"{API}/orchestrators/chain", big, json_type).status_code == 202
    # Past the host's request size limit the host itself answers, as the Functions host does.
    too_big = call(host, "POST", f"{API}/orchestrators/chain", b"x" * (101 * 1024 * 1024))
    assert too_big.status_code == 413


def test_unknown_names_methods_and_parameters(host: HostProcess) -> None:
    assert_client_error(call(host, "POST", f"{API}/orchestrators/no_such_orchestrator"), 400)
    assert_client_error(call(host, "POST", "api/start/no_such_orchestrator"), 400)
    for method in ("PUT", "PATCH", "OPTIONS", "GET", "DELETE"):
        assert_client_error(call(host, method, f"{API}/orchestrators/chain"), 404)
    for method in ("PUT", "PATCH", "OPTIONS"):
        assert_client_error(call(host, method, f"{API}/instances/x"), 404)
    for path in ("", "nothing", "instances/x/explode", "instances/x/raiseEvent",
                 "instances/x/raiseEvent/a/b", "orchestrators", "orchestrators/a/b/c"):
        assert_client_error(call(host, "POST", f"{API}/{path}"), 404)
    for query in ("top=abc", "top=-1", "top=1.5", "createdTimeFrom=garbage",
                  "runtimeStatus=Bogus", "showInput=maybe", "taskHub=bad!name",
                  "connection=Missing", "taskHub=" + "a" * 100, "createdTimeTo=" + "9" * 5000):
        assert_client_error(call(host, "GET", f"{API}/instances?{query}"), 400)
    assert_client_error(call(host, "DELETE", f"{API}/instances"), 400)
    assert_client_error(call(host, "GET", f"{API}/instances/x?showHistory=perhaps"), 400)
    assert_client_error(call(host, "POST", f"{API}/instances/x/restart?"
                                           "restartWithNewInstanceId=perhaps"), 400)


async def test_unknown_event_names_leave_the_instance_waiting(
    host: HostProcess, hub: TaskHub
) -> None:
    iid = "waiting-" + uuid.uuid4().hex[:6]
    assert call(host, "POST", f"api/start/event?id={iid}").status_code == 202
    await wait_status(hub, iid, "Running")
    json_type = {"Content-Type": "application/json"}
    names = ["nope", "ünï", "%2F", "x" * 10240, "go%00", "GO!", "'"]
    for name in names:
        resp = call(host, "POST", f"{API}/instances/{iid}/raiseEvent/{quote(name, safe='')}",
                    b'{"v": 1}', json_type)
        assert resp.status_code == 202, (name[:20], resp.text)
    assert_client_error(call(host, "POST", f"{API}/instances/{iid}/raiseEvent/go",
                             b"{bad", json_type), 400)
    assert_client_error(call(host, "POST", f"{API}/instances/{iid}/raiseEvent/go", b"1",
                             {"Content-Type": "text/plain"}), 400)
    record = await hub.instances.get(iid)
    assert record is not None and record.runtime_status.name == "Running"
    resp = call(host, "POST", f"{API}/instances/{iid}/raiseEvent/go", b'"go"', json_type)
    assert resp.status_code == 202
    status = await wait_finished(hub, iid)
    assert status.output == f"{iid}:go!"
    events = (await hub.history.load_history(iid)).events
    raised = [e.name or "" for e in events if e.event_type is EventType.EventRaised]
    assert sorted(raised) == sorted([*names, "go"])


def random_text(rng: random.Random) -> str:
    alphabet = "abcXYZ019-_.~%/#?&=+ üß☃😀\x00\x7f'\"<>{}[]"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


TEMPLATES = ["instances", "instances/{id}", "instances/{id}/raiseEvent/{text}",
             "instances/{id}/terminate", "instances/{id}/suspend", "instances/{id}/resume",
             "instances/{id}/rewind", "instances/{id}/restart", "orchestrators/{name}",
             "orchestrators/{name}/{id}", "{text}", "{text}/{text}"]
PARAMETERS = ["top", "showInput", "showHistory", "showHistoryOutput", "createdTimeFrom",
              "createdTimeTo", "runtimeStatus", "instanceIdPrefix", "reason", "timeout",
              "pollingInterval", "restartWithNewInstanceId", "taskHub", "connection", "code"]
VALUES = ["", "true", "0", "-1", "1.5", "2024-01-01T00:00:00Z", "Running,Bogus", "1e309",
          "NaN", "x" * 300]


def test_seeded_random_barrage(host: HostProcess) -> None:
    """Requests shaped like the API's own, with random parts, methods, queries and bodies."""
    rng = random.Random(20261128)
    seen: Counter[int] = Counter()
    for _ in range(300):
        path = rng.choice(TEMPLATES).format(
            id=quote(rng.choice([*ODD_IDS[:8], "x", random_text(rng)]), safe=""),
            text=quote(random_text(rng), safe=""),
            name=rng.choice(["chain", "no_such", quote(random_text(rng), safe="")]),
        )
        query = "&".join(
            f"{rng.choice(PARAMETERS)}={quote(rng.choice([*VALUES, random_text(rng)]))}"
            for _ in range(rng.randint(0, 3))
        )
        method = rng.choice(["GET", "POST", "POST", "DELETE", "PUT"])
        body = rng.choice([b"", b"null", b"{}", b'"text"', *BAD_BODIES[:5],
                           bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))])
        headers = {"Content-Type": rng.choice(["application/json", "text/plain", "x/y"])}
        resp = call(host, method, f"{API}/{path}" + (f"?{query}" if query else ""), body,
                    headers)
        seen[resp.status_code] += 1
        if resp.status_code < 400:
            continue  # a request that happened to make sense (a list, a start of 'chain')
        assert_client_error(resp)
    print(f"random requests by status: {dict(sorted(seen.items()))}")
    assert seen[400] > 20 and seen[404] > 20, seen


async def test_hub_is_consistent_afterwards(host: HostProcess, hub: TaskHub) -> None:
    client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
    deadline = time.monotonic() + 120
    while True:
        statuses = await client.get_status_all()
        pending = [s.instance_id for s in statuses
                   if s.runtime_status and s.runtime_status.value not in ("Completed",)]
        if not pending:
            break
        assert time.monotonic() < deadline, pending[:5]
        await asyncio.sleep(0.5)
    for status in statuses:
        assert status.instance_id is not None
        assert is_valid_id(status.instance_id) or status.instance_id.isprintable()
        assert len(status.instance_id) <= 256
    while any((await hub.queues.approximate_counts()).values()):
        assert time.monotonic() < deadline, await hub.queues.approximate_counts()
        await asyncio.sleep(0.5)
    assert not any((await poison_counts(hub)).values())
    assert call(host, "GET", f"{API}/instances").status_code == 200


async def wait_status(hub: TaskHub, instance_id: str, state: str, timeout: float = 60) -> Any:
    client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
    deadline = time.monotonic() + timeout
    while True:
        status = await client.get_status(instance_id)
        if status.runtime_status and status.runtime_status.value == state:
            return status
        assert time.monotonic() < deadline, (instance_id, status.runtime_status)
        await asyncio.sleep(0.2)


async def wait_finished(hub: TaskHub, instance_id: str) -> Any:
    return await wait_status(hub, instance_id, "Completed")
