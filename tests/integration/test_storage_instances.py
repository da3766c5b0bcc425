"""Instances table on Azurite: start/overwrite primitives, episode merges, queries, paging."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from azure.data.tables.aio import TableClient

from durable.core.history import OrchestrationStatus
from durable.errors import InstanceConflictError, InstanceNotFoundError
from durable.storage import InstanceRecord, InstanceUpdate, TaskHub
from durable.storage.names import instances_table_name
from tests.support.events import at

pytestmark = pytest.mark.azurite

S = OrchestrationStatus


def _record(instance_id: str, created: float = 0, **fields: object) -> InstanceRecord:
    base = InstanceRecord(
        instance_id=instance_id,
        name="orch",
        execution_id="exec-" + instance_id,
        input='{"n": 1}',
        created_time=at(created),
        last_updated_time=at(created),
        tags={"team": "a"},
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


async def test_insert_get_and_row_shape(
    hub: TaskHub, connection_string: str, hub_name: str
) -> None:
    record = _record("a/1", scheduled_start_time=at(30), version="2")
    etag = await hub.instances.insert(record)
    got = await hub.instances.get("a/1")
    assert got == dataclasses.replace(record, task_hub_name=hub_name, etag=etag)
    async with TableClient.from_connection_string(
        connection_string, instances_table_name(hub_name)
    ) as table:
        row = await table.get_entity("a^01", "")
    assert row["RuntimeStatus"] == "Pending"
    assert row["CustomStatus"] == "null"
    assert row["TaskHubName"] == hub_name
    assert row["Generation"] == 0
    assert await hub.instances.get("missing") is None


async def test_insert_twice_conflicts_and_replace_needs_current_etag(hub: TaskHub) -> None:
    etag = await hub.instances.insert(_record("x"))
    with pytest.raises(InstanceConflictError, match="already has an Instances row"):
        await hub.instances.insert(_record("x"))
    restarted = _record("x", execution_id="exec-2", generation=1, input='"again"')
    new_etag = await hub.instances.replace(restarted, etag)
    with pytest.raises(InstanceConflictError, match="changed"):
        await hub.instances.replace(restarted, etag)
    got = await hub.instances.get("x")
    assert got is not None and got.etag == new_etag
    assert (got.generation, got.execution_id, got.input) == (1, "exec-2", '"again"')


async def test_update_from_episode_merges_and_upserts(hub: TaskHub) -> None:
    await hub.instances.insert(_record("e"))
    await hub.instances.update_from_episode(
        "e",
        InstanceUpdate(
            runtime_status=S.Running, custom_status='{"step": 1}', last_updated_time=at(5)
        ),
    )
    got = await hub.instances.get("e")
    assert got is not None
    assert (got.runtime_status, got.custom_status, got.input) == (
        S.Running,
        '{"step": 1}',
        '{"n": 1}',
    )
    etag = await hub.instances.update_from_episode(
        "e", InstanceUpdate(runtime_status=S.Completed, output='"ok"', completed_time=at(9))
    )
    got = await hub.instances.get("e")
    assert got is not None and got.etag == etag
    assert (got.runtime_status, got.output, got.completed_time) == (S.Completed, '"ok"', at(9))
    with pytest.raises(InstanceConflictError):
        await hub.instances.update_from_episode("e", InstanceUpdate(output='"x"'), etag='W/"x"')
    # Unconditional: creates the row if the client's insert was lost.
    await hub.instances.update_from_episode(
        "fresh", InstanceUpdate(name="orch", runtime_status=S.Running)
    )
    fresh = await hub.instances.get("fresh")
    assert fresh is not None and fresh.runtime_status is S.Running and fresh.custom_status is None


async def test_set_status(hub: TaskHub) -> None:
    await hub.instances.insert(_record("s"))
    await hub.instances.set_status("s", S.Terminated, output='"by user"', now=at(100))
    got = await hub.instances.get("s")
    assert got is not None
    assert (got.runtime_status, got.output, got.completed_time) == (
        S.Terminated,
        '"by user"',
        at(100),
    )
    await hub.instances.set_status("s", S.Pending)
    with pytest.raises(InstanceNotFoundError):
        await hub.instances.set_status("nobody", S.Terminated)
    with pytest.raises(InstanceConflictError):
        await hub.instances.set_status("s", S.Running, etag=got.etag)


async def test_large_payloads_are_offloaded_and_replaced(hub: TaskHub) -> None:
    big = '"' + "y" * (5 * 1024 * 1024) + '"'
    await hub.instances.insert(_record("big", input=big))
    assert len(await hub.payloads.list_instance_blobs("big")) == 1
    got = await hub.instances.get("big")
    assert got is not None and got.input == big
    without = await hub.instances.get("big", include_input=False)
    assert without is not None and without.input is None and without.name == "orch"
    await hub.instances.update_from_episode("big", InstanceUpdate(output=big, custom_status=big))
    got = await hub.instances.get("big")
    assert got is not None and got.output == big and got.custom_status == big
    # A small value merged over an offloaded one must win over the old blob.
    await hub.instances.update_from_episode("big", InstanceUpdate(output='"small"'))
    got = await hub.instances.get("big")
    assert got is not None and got.output == '"small"' and got.custom_status == big
    assert await hub.purge_instance("big") is True
    assert await hub.payloads.list_instance_blobs("big") == []


async def test_query_filters(hub: TaskHub) -> None:
    specs = [
        ("order-1", 0, S.Running),
        ("order-2", 10, S.Completed),
        ("order-3", 20, S.Failed),
        ("orders", 30, S.Completed),
        ("other-1", 40, S.Completed),
        ("@counter@k", 50, S.Running),
    ]
    for instance_id, created, status in specs:
        await hub.instances.insert(_record(instance_id, created, runtime_status=status))

    async def ids(**filters: object) -> list[str]:
        records, token = await hub.instances.query(top=100, **filters)  # type: ignore[arg-type]
        assert token is None
        return sorted(r.instance_id for r in records)

    assert len(await ids()) == 6
    assert await ids(statuses=[S.Completed]) == ["order-2", "orders", "other-1"]
    assert await ids(statuses=[S.Failed, S.Running]) == ["@counter@k", "order-1", "order-3"]
    assert await ids(created_from=at(10), created_to=at(30)) == ["order-2", "order-3", "orders"]
    assert await ids(instance_id_prefix="order-") == ["order-1", "order-2", "order-3"]
    assert await ids(instance_id_prefix="order", statuses=[S.Completed]) == ["order-2", "orders"]
    assert "@counter@k" not in await ids(exclude_entities=True)
    records, _ = await hub.instances.query(instance_id_prefix="order-1", include_input=False)
    assert [(r.instance_id, r.input, r.name) for r in records] == [("order-1", None, "orch")]


async def test_query_pages_with_continuation_token(hub: TaskHub) -> None:
    for i in range(7):
        await hub.instances.insert(_record(f"p{i}", i))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        records, token = await hub.instances.query(
            top=3, continuation_token=token, created_from=at(0) - timedelta(seconds=1)
        )
        pages += 1
        assert len(records) <= 3
        seen += [r.instance_id for r in records]
        if token is None:
            break
        assert isinstance(token, str)
    assert pages >= 3
    assert sorted(seen) == [f"p{i}" for i in range(7)]
    with pytest.raises(ValueError, match="continuation_token"):
        await hub.instances.query(continuation_token="%%%")
    with pytest.raises(ValueError, match="top"):
        await hub.instances.query(top=0)


async def test_delete(hub: TaskHub) -> None:
    etag = await hub.instances.insert(_record("d"))
    await hub.instances.update_from_episode("d", InstanceUpdate(runtime_status=S.Running))
    with pytest.raises(InstanceConflictError):
        await hub.instances.delete("d", etag=etag)
    assert await hub.instances.delete("d") is True
    assert await hub.instances.delete("d") is False
    assert await hub.instances.get("d") is None
