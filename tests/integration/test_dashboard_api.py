"""The management API's additions for the dashboard, called in-process as the host calls it:
the page itself, the name filter and the created-range check of `GET instances`, counts by
status, queue depths, poison queues (view, delete, refused when read-only), orchestrators."""

from __future__ import annotations

import contextlib
import json
import re
import uuid

import pytest
from azure.core.exceptions import ResourceExistsError

from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.taskhub import TaskHub
from tests.integration.test_client_apps import running, wait_status
from tests.integration.test_http_api import body_of, call, start

pytestmark = pytest.mark.azurite

READ_ONLY = "AzureFunctionsJobHost__extensions__durableTask__dashboard__readOnly"


async def test_dashboard_page_is_one_self_contained_document(
    hub_name: str, connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(READ_ONLY, raising=False)
    async with running(hub_name, connection_string) as env:
        bare = await call(env, "GET", "dashboard", params={"code": "k1"})
        assert bare.status_code == 200 and bare.mimetype == "text/html"

        page = await call(env, "GET", "dashboard/")
        assert page.status_code == 200
        html = page.get_body().decode()
        assert "<script src=" not in html and '<link rel="stylesheet"' not in html
        assert "Dash.views.instances" in html and "Dash.timeline" in html
        nonce = re.search(r"script-src 'nonce-([\w-]+)'", page.headers["Content-Security-Policy"])
        assert nonce and f'<script nonce="{nonce[1]}">' in html
        assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
        config = re.search(r'id="dashboard-config" type="application/json">(.*?)</script>', html)
        assert config and json.loads(config[1]) == {"readOnly": False, "taskHub": env.hub_name}

        asset = await call(env, "GET", "dashboard/timeline.js")
        assert asset.status_code == 200 and asset.mimetype == "text/javascript"
        missing = await call(env, "GET", "dashboard/secrets.txt")
        assert missing.status_code == 404 and "no file named" in body_of(missing)["Message"]

        monkeypatch.setenv(READ_ONLY, "true")
        html = (await call(env, "GET", "dashboard/")).get_body().decode()
        config = re.search(r'id="dashboard-config" type="application/json">(.*?)</script>', html)
        assert config and json.loads(config[1])["readOnly"] is True
        monkeypatch.setenv(READ_ONLY, "maybe")
        bad = await call(env, "GET", "dashboard/")
        assert bad.status_code == 500
        assert "readOnly must be true or false, got 'maybe'" in body_of(bad)["Message"]


async def test_list_filters_by_name_prefix_and_checks_the_range(
    hub_name: str, connection_string: str
) -> None:
    async with running(hub_name, connection_string) as env:
        hello = await start(env, "cl_hello", "dash-a", 1)
        waiting = await start(env, "cl_wait_event", "dash-b")
        await wait_status(env.client, hello)
        await wait_status(env.client, waiting, (S.Running,))
        resp = await call(env, "GET", "instances", {"namePrefix": "cl_wait"})
        assert resp.status_code == 200
        assert [s["instanceId"] for s in body_of(resp)] == ["dash-b"]
        both = await call(env, "GET", "instances", {"namePrefix": "cl_", "showInput": "false"})
        assert sorted(s["instanceId"] for s in body_of(both)) == ["dash-a", "dash-b"]
        none = await call(env, "GET", "instances", {"namePrefix": "zz"})
        assert body_of(none) == []
        wrong_way = await call(
            env, "GET", "instances",
            {"createdTimeFrom": "2030-01-01T00:00:00Z", "createdTimeTo": "2020-01-01T00:00:00Z"},
        )
        assert wrong_way.status_code == 400
        assert "later than" in body_of(wrong_way)["ExceptionMessage"]

        counts = body_of(await call(env, "GET", "taskhub/counts"))
        assert counts["Completed"] == 1 and counts["Running"] == 1 and counts["Total"] == 2
        assert counts["Failed"] == 0 and set(counts) == {s.value for s in S} | {"Total"}

        names = body_of(await call(env, "GET", "orchestrators"))["orchestrators"]
        assert {"cl_hello", "cl_wait_event", "cl_flaky"} <= set(names)
        assert names == sorted(names)

        hub = body_of(await call(env, "GET", "taskhub"))
        assert hub["taskHub"] == env.hub_name and hub["partitionCount"] == 4
        assert [q["name"] for q in hub["controlQueues"]] == [
            f"{env.hub_name.lower()}-control-0{i}" for i in range(4)
        ]
        assert hub["workItemQueue"]["name"] == f"{env.hub_name.lower()}-workitems"
        assert hub["poisonQueues"] == []


async def test_poison_messages_are_listed_and_deleted(
    hub_name: str, connection_string: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(READ_ONLY, raising=False)
    async with running(hub_name, connection_string) as env:
        hub: TaskHub = env.worker.hub
        name = f"{env.hub_name.lower()}-workitems-poison"
        queue = hub.queues.client(name)
        with contextlib.suppress(ResourceExistsError):
            await queue.create_queue()
        sent = [await queue.send_message(json.dumps({"n": i})) for i in range(3)]
        await queue.send_message("not json at all")

        listed = body_of(await call(env, "GET", "taskhub"))["poisonQueues"]
        assert listed == [{"name": name, "depth": 4}]
        messages = body_of(await call(env, "GET", f"taskhub/poison/{name}"))
        assert [m["content"] for m in messages] == [{"n": 0}, {"n": 1}, {"n": 2}, "not json at all"]
        assert all(m["id"] and m["insertedOn"] for m in messages)

        monkeypatch.setenv(READ_ONLY, "true")
        refused = await call(env, "DELETE", f"taskhub/poison/{name}/{sent[1].id}")
        assert refused.status_code == 403 and "read-only" in body_of(refused)["Message"]
        monkeypatch.delenv(READ_ONLY)

        deleted = await call(env, "DELETE", f"taskhub/poison/{name}/{sent[1].id}")
        assert deleted.status_code == 200 and body_of(deleted) == {"deleted": 1}
        left = body_of(await call(env, "GET", f"taskhub/poison/{name}"))
        # The others are visible again at once, in their order.
        assert [m["content"] for m in left] == [{"n": 0}, {"n": 2}, "not json at all"]
        again = await call(env, "DELETE", f"taskhub/poison/{name}/{sent[1].id}")
        assert again.status_code == 404 and sent[1].id in body_of(again)["Message"]
        other = await call(env, "GET", f"taskhub/poison/{uuid.uuid4().hex}-poison")
        assert other.status_code == 404 and "not a poison queue" in body_of(other)["Message"]
        await queue.delete_queue()
