"""The entity endpoints of the management API and the entity commands of the command line,
against Azurite while a pump runs the entities."""

from __future__ import annotations

import json
from typing import Any

import pytest

import durable as df
from tests.integration import entity_functions  # noqa: F401 (registers the entities)
from tests.integration.test_client_apps import Env, running
from tests.integration.test_durable_cli import Cli, cli  # noqa: F401 (the fixture)
from tests.integration.test_http_api import body_of, call
from tests.support.hubs import poll_until

pytestmark = pytest.mark.azurite


async def settled(env: Env, entity: df.EntityId, value: Any) -> None:
    async def check() -> bool:
        return (await env.client.read_entity_state(entity)).entity_state == value

    await poll_until(check)


async def test_entity_endpoints(hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        json_body = {"content-type": "application/json"}
        resp = await call(env, "POST", "entities/tally/h1", {"op": "add"}, "5", json_body)
        assert resp.status_code == 202 and resp.get_body() == b""
        await settled(env, df.EntityId("tally", "h1"), 5)
        got = await call(env, "GET", "entities/tally/h1")
        assert got.status_code == 200 and body_of(got) == 5
        missing = await call(env, "GET", "entities/tally/nope")
        assert missing.status_code == 404 and "does not exist" in body_of(missing)["Message"]

        # Any body that is not JSON is the input as a string; "$" is the empty key.
        await call(env, "POST", "entities/Holder/$", {"op": "set"}, "plain text",
                   {"content-type": "text/plain"})
        await settled(env, df.EntityId("Holder", ""), {"text": "plain text"})
        assert body_of(await call(env, "GET", "entities/Holder/$")) == {"text": "plain text"}

        listed = await call(env, "GET", "entities/tally", {"fetchState": "true"})
        assert listed.status_code == 200
        assert body_of(listed) == [{"entityId": {"name": "tally", "key": "h1"},
                                    "lastOperationTime": body_of(listed)[0]["lastOperationTime"],
                                    "state": 5}]
        everything = body_of(await call(env, "GET", "entities"))
        names = sorted(e["entityId"]["name"] for e in everything)
        assert names == ["holder", "tally"] and all("state" not in e for e in everything)
        paged = await call(env, "GET", "entities", {"top": "1"})
        assert len(body_of(paged)) == 1 and paged.headers.get("x-ms-continuation-token")
        rest = await call(env, "GET", "entities", {"top": "1"},
                          headers={"x-ms-continuation-token":
                                   paged.headers["x-ms-continuation-token"]})
        assert body_of(rest)[0] != body_of(paged)[0]

        deleted = await call(env, "DELETE", "entities/tally/h1")
        assert deleted.status_code == 202

        async def gone() -> bool:
            found = await env.client.read_entity_state(df.EntityId("tally", "h1"))
            return not found.entity_exists

        await poll_until(gone)
        assert (await call(env, "GET", "entities/tally/h1")).status_code == 404

        for method, path, params, body, headers in (
            ("POST", "entities/tally/k", {}, "", {}),                       # no op
            ("POST", "entities/tally/k", {"op": "add"}, "{bad", json_body),  # bad JSON
            ("GET", "entities/ta@lly/k", {}, "", {}),                        # bad name
            ("GET", "entities/tally", {"top": "0"}, "", {}),
            ("GET", "entities/tally", {"lastOperationTimeFrom": "2030-01-01T00:00:00Z",
                                       "lastOperationTimeTo": "2020-01-01T00:00:00Z"}, "", {}),
        ):
            bad = await call(env, method, path, params, body, headers)
            assert bad.status_code == 400, (path, body_of(bad))
            message = body_of(bad)["Message"]
            assert message == "One or more of the arguments submitted is incorrect"
        raised = await call(env, "POST", "instances/@holder@/raiseEvent/x", body="1",
                            headers=json_body)
        assert raised.status_code == 400
        assert "signal_entity" in body_of(raised)["ExceptionMessage"]


async def test_entity_commands(cli: Cli, hub_name: str, connection_string: str) -> None:  # noqa: F811
    async with running(hub_name, connection_string) as env:
        signalled = await cli.ok("signal-entity", "--name", "tally", "--key", "c1", "--op", "add",
                                 "--input", "4")
        assert "Signalled 'add'" in signalled["message"]
        await settled(env, df.EntityId("tally", "c1"), 4)
        shown = await cli.ok("get-entity", "--name", "tally", "--key", "c1")
        assert shown == {"entityId": {"name": "tally", "key": "c1"}, "state": 4}
        listed = await cli.ok("list-entities", "--fetch-state")
        assert [(e["entityId"]["key"], e["state"]) for e in listed["entities"]] == [("c1", 4)]
        table = (await cli.run("list-entities", "--table"))[1]
        assert "entityId" in table and "(no more pages)" in table
        assert "does not exist" in await cli.fails("get-entity", "--name", "tally", "--key", "x")
        assert "cannot be empty" in await cli.fails("get-entity", "--name", "", "--key", "x")
        cleaned = await cli.ok("clean-entity-storage", "--keep-empty")
        assert cleaned == {"numberOfEmptyEntitiesRemoved": 0, "numberOfOrphanedLocksRemoved": 0}
        assert json.loads(json.dumps(cleaned))  # plain JSON
