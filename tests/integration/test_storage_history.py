"""History table on Azurite: sentinel, ETag conflicts, multi-batch commits, crash safety,
ContinueAsNew replacement, and the atomicity of entity-group transactions itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from durable.core.history import EventType, HistoryEvent
from durable.errors import HistoryConflictError
from durable.storage import TaskHub, TaskHubSettings
from durable.storage.names import history_table_name
from tests.support.events import at, numbered_events, sample_events

pytestmark = pytest.mark.azurite


@pytest.fixture
async def raw_table(connection_string: str, hub_name: str) -> AsyncIterator[TableClient]:
    """An independent client, to look at rows the way any other reader would."""
    async with TableClient.from_connection_string(
        connection_string, history_table_name(hub_name)
    ) as table:
        yield table


async def _row_keys(table: TableClient, pk: str) -> dict[str, Any]:
    rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": pk})
    return {r["RowKey"]: r async for r in rows}


class SimulatedCrash(Exception):
    pass


def crash_after(hub: TaskHub, monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    """Let `batches` transactions through, then fail as if the process died."""
    table = hub.history._table
    real = table.submit_transaction
    calls = {"n": 0}

    async def submit(ops: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > batches:
            raise SimulatedCrash()
        return await real(ops, **kwargs)

    monkeypatch.setattr(table, "submit_transaction", submit)


async def test_empty_instance(hub: TaskHub) -> None:
    loaded = await hub.history.load_history("nobody")
    assert (loaded.events, loaded.execution_id, loaded.etag, loaded.sentinel) == (
        [],
        None,
        None,
        None,
    )
    assert await hub.history.read_etag("nobody") is None


async def test_commit_and_load_every_event_type(hub: TaskHub) -> None:
    events = sample_events()
    etag = await hub.history.commit("inst/1", "exec-1", events, None, 0)
    loaded = await hub.history.load_history("inst/1")
    assert loaded.events == events
    assert [e.tags for e in loaded.events] == [e.tags for e in events]
    assert loaded.execution_id == "exec-1"
    assert loaded.etag == etag == await hub.history.read_etag("inst/1")
    assert loaded.sentinel is not None
    assert loaded.sentinel["HistoryLength"] == len(events)
    assert loaded.sentinel["IsCheckpointComplete"] is True
    assert loaded.sentinel["CheckpointCompletedTimestamp"] is not None


async def test_rows_follow_durable_task_layout(hub: TaskHub, raw_table: TableClient) -> None:
    await hub.history.commit("a/b", "exec-1", numbered_events(12), None, 0)
    rows = await _row_keys(raw_table, "a^0b")
    assert sorted(rows) == [f"{i:016X}" for i in range(12)] + ["sentinel"]
    assert rows["000000000000000B"]["EventType"] == "TaskScheduled"
    assert rows["000000000000000B"]["ExecutionId"] == "exec-1"
    assert rows["sentinel"]["ExecutionId"] == "exec-1"


async def test_append_across_episodes(hub: TaskHub) -> None:
    first = numbered_events(3)
    etag = await hub.history.commit("i", "e", first, None, 0)
    second = numbered_events(2, start=3)
    etag2 = await hub.history.commit("i", "e", second, etag, 3)
    assert etag2 != etag
    assert (await hub.history.load_history("i")).events == first + second


async def test_stale_etag_conflicts(hub: TaskHub) -> None:
    etag = await hub.history.commit("i", "e", numbered_events(1), None, 0)
    await hub.history.commit("i", "e", numbered_events(1, start=1), etag, 1)
    with pytest.raises(HistoryConflictError, match="reload"):
        await hub.history.commit("i", "e", numbered_events(1, start=9), etag, 1)


async def test_second_creator_conflicts(hub: TaskHub) -> None:
    await hub.history.commit("i", "e", numbered_events(1), None, 0)
    with pytest.raises(HistoryConflictError, match="created its history first"):
        await hub.history.commit("i", "e2", numbered_events(1), None, 0)


@pytest.mark.parametrize("count", [2, 250])
async def test_concurrent_writers_exactly_one_wins(
    connection_string: str, hub_name: str, hub: TaskHub, count: int
) -> None:
    """Two hosts replay the same state and commit different outcomes at once."""
    base = await hub.history.commit("i", "e", numbered_events(1), None, 0)
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with TaskHub(settings) as other:
        await other.history.load_history("i")
        mine = numbered_events(count, name="mine", start=1)
        theirs = numbered_events(count, name="theirs", start=1)
        results = await asyncio.gather(
            hub.history.commit("i", "e", mine, base, 1),
            other.history.commit("i", "e", theirs, base, 1),
            return_exceptions=True,
        )
    conflicts = [r for r in results if isinstance(r, HistoryConflictError)]
    assert len(conflicts) == 1, results
    winner = mine if not isinstance(results[0], Exception) else theirs
    loaded = await hub.history.load_history("i")
    assert loaded.events == numbered_events(1) + winner


async def test_concurrent_creators_exactly_one_wins(hub: TaskHub) -> None:
    results = await asyncio.gather(
        *(hub.history.commit("new", f"e{n}", numbered_events(2), None, 0) for n in range(2)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, HistoryConflictError) for r in results) == 1
    loaded = await hub.history.load_history("new")
    assert loaded.execution_id in ("e0", "e1")


async def test_multi_batch_commit_of_250_events(hub: TaskHub, raw_table: TableClient) -> None:
    hub.reset_request_counts()
    events = numbered_events(250)
    etag = await hub.history.commit("big", "e", events, None, 0)
    assert hub.request_counts.get("table.batch") == 3  # 99 + 99 + 52 rows
    loaded = await hub.history.load_history("big")
    assert loaded.events == events and loaded.etag == etag
    more = numbered_events(120, start=250)
    await hub.history.commit("big", "e", more, etag, 250)
    assert (await hub.history.load_history("big")).events == events + more
    assert len(await _row_keys(raw_table, "big")) == 371


async def test_crash_midway_keeps_old_history(
    hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = numbered_events(5)
    etag = await hub.history.commit("c", "e", old, None, 0)
    crash_after(hub, monkeypatch, batches=2)
    with pytest.raises(SimulatedCrash):
        await hub.history.commit("c", "e", numbered_events(250, name="new", start=5), etag, 5)
    monkeypatch.undo()
    loaded = await hub.history.load_history("c")
    assert loaded.events == old
    # The interrupted attempt moved the ETag (it held the sentinel); the retry uses the new one.
    retry = numbered_events(250, name="retry", start=5)
    await hub.history.commit("c", "e", retry, loaded.etag, 5)
    assert (await hub.history.load_history("c")).events == old + retry


async def test_crash_midway_creating_new_instance(
    hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_after(hub, monkeypatch, batches=1)
    with pytest.raises(SimulatedCrash):
        await hub.history.commit("n", "e", numbered_events(150), None, 0)
    monkeypatch.undo()
    loaded = await hub.history.load_history("n")
    assert loaded.events == [] and loaded.execution_id is None and loaded.etag is not None
    await hub.history.commit("n", "e", numbered_events(150), loaded.etag, 0)
    assert len((await hub.history.load_history("n")).events) == 150


async def test_continue_as_new_ignores_stale_tail(hub: TaskHub, raw_table: TableClient) -> None:
    etag = await hub.history.commit("can", "gen1", numbered_events(150, name="old"), None, 0)
    gen2 = numbered_events(4, name="new")
    etag = await hub.history.commit("can", "gen2", gen2, etag, 0, replace_execution=True)
    loaded = await hub.history.load_history("can")
    assert loaded.events == gen2 and loaded.execution_id == "gen2"
    rows = await _row_keys(raw_table, "can")
    assert rows["0000000000000000"]["ExecutionId"] == "gen2"
    assert rows["0000000000000004"]["ExecutionId"] == "gen1"  # stale tail, ignored
    more = numbered_events(2, name="new", start=4)
    await hub.history.commit("can", "gen2", more, etag, 4)
    assert (await hub.history.load_history("can")).events == gen2 + more


async def test_large_continue_as_new_survives_a_crash(
    connection_string: str, hub_name: str, hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replacement too big for one transaction must not overwrite the committed rows."""
    gen1 = numbered_events(50, name="gen1")
    etag = await hub.history.commit("eternal", "gen1", gen1, None, 0)
    gen2 = numbered_events(150, name="gen2")
    crash_after(hub, monkeypatch, batches=1)
    with pytest.raises(SimulatedCrash):
        await hub.history.commit("eternal", "gen2", gen2, etag, 0, replace_execution=True)
    monkeypatch.undo()
    loaded = await hub.history.load_history("eternal")
    assert loaded.events == gen1 and loaded.execution_id == "gen1"
    etag = await hub.history.commit("eternal", "gen2", gen2, loaded.etag, 0, replace_execution=True)
    # A fresh process (no cached layout) reads and appends to the relocated execution.
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with TaskHub(settings) as other:
        again = await other.history.load_history("eternal")
        assert again.events == gen2 and again.execution_id == "gen2"
        tail = numbered_events(3, name="gen2", start=150)
        etag = await other.history.commit("eternal", "gen2", tail, again.etag, 150)
    assert (await hub.history.load_history("eternal")).events == gen2 + tail
    gen3 = numbered_events(2, name="gen3")
    await hub.history.commit("eternal", "gen3", gen3, etag, 0, replace_execution=True)
    assert (await hub.history.load_history("eternal")).events == gen3


async def test_etag_only_known_from_read_etag(
    connection_string: str, hub_name: str, hub: TaskHub
) -> None:
    await hub.history.commit("r", "e", numbered_events(2), None, 0)
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with TaskHub(settings) as other:
        etag = await other.history.read_etag("r")
        await other.history.commit("r", "e", numbered_events(1, start=2), etag, 2)
    assert len((await hub.history.load_history("r")).events) == 3


async def test_transaction_with_stale_sentinel_etag_writes_nothing(
    connection_string: str, hub_name: str, hub: TaskHub, raw_table: TableClient
) -> None:
    """Azurite's entity-group transactions are atomic: the failed If-Match voids the rows."""
    stale = await hub.history.commit("atom", "e", numbered_events(2), None, 0)
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with TaskHub(settings) as other:
        assert (await other.history.load_history("atom")).etag == stale
        current = await hub.history.commit("atom", "e", numbered_events(1, start=2), stale, 2)
        before = await _row_keys(raw_table, "atom")
        other.reset_request_counts()
        with pytest.raises(HistoryConflictError, match="another writer committed"):
            await other.history.commit("atom", "e", numbered_events(60, "lost", 2), stale, 2)
        assert other.request_counts == {"table.batch": 1}  # the rows went in the transaction
    after = await _row_keys(raw_table, "atom")
    assert {k: r.metadata["etag"] for k, r in after.items()} == {
        k: r.metadata["etag"] for k, r in before.items()
    }
    assert after["sentinel"].metadata["etag"] == current
    assert after["0000000000000002"]["Name"] == "act2"


async def test_raw_transactions_fail_as_a_whole(raw_table: TableClient, hub: TaskHub) -> None:
    """The same property without our code in between, for both failure kinds and positions."""
    sentinel = {"PartitionKey": "raw", "RowKey": "sentinel", "HistoryLength": 0}
    created = await raw_table.submit_transaction([("create", sentinel)])
    rows = [{"PartitionKey": "raw", "RowKey": f"{i:016X}"} for i in range(5)]
    upserts: list[Any] = [("upsert", r, {"mode": UpdateMode.REPLACE}) for r in rows]
    with pytest.raises(TableTransactionError) as exists:
        await raw_table.submit_transaction([("create", sentinel), *upserts])
    assert exists.value.status_code == 409
    await raw_table.submit_transaction([("update", sentinel, {"mode": UpdateMode.MERGE})])
    stale_update = (
        "update",
        sentinel,
        {
            "mode": UpdateMode.MERGE,
            "etag": created[0]["etag"],
            "match_condition": MatchConditions.IfNotModified,
        },
    )
    for ops in ([stale_update, *upserts], [*upserts, stale_update]):
        with pytest.raises(TableTransactionError) as modified:
            await raw_table.submit_transaction(ops)
        assert modified.value.status_code == 412
    assert sorted(await _row_keys(raw_table, "raw")) == ["sentinel"]


async def test_large_property_round_trips_and_purge_deletes_blobs(hub: TaskHub) -> None:
    big = '"' + "x" * (5 * 1024 * 1024) + '"'
    unicode_big = '"' + "ü" * 40_000 + '"'  # 80 KB of UTF-16: over DF's 60 KB threshold
    events = [
        HistoryEvent(EventType.TaskCompleted, at(0), task_scheduled_id=0, result=big),
        HistoryEvent(EventType.EventRaised, at(1), name="n", input=unicode_big),
        HistoryEvent(EventType.EventRaised, at(2), name="small", input='"s"'),
    ]
    await hub.history.commit("heavy", "e", events, None, 0)
    blobs = await hub.payloads.list_instance_blobs("heavy")
    assert len(blobs) == 2
    assert all(b.startswith("heavy/history-") and b.endswith(".json.gz") for b in blobs)
    assert (await hub.history.load_history("heavy")).events == events
    assert await hub.purge_instance("heavy") is True
    assert await hub.payloads.list_instance_blobs("heavy") == []
    assert (await hub.history.load_history("heavy")).etag is None
    assert await hub.purge_instance("heavy") is False


async def test_delete_history_of_many_rows(hub: TaskHub, raw_table: TableClient) -> None:
    await hub.history.commit("d", "e", numbered_events(230), None, 0)
    assert await hub.history.delete_history("d") == 231
    assert await _row_keys(raw_table, "d") == {}


async def test_commit_argument_errors(hub: TaskHub) -> None:
    with pytest.raises(ValueError, match="start_seq must be 0 for a new instance"):
        await hub.history.commit("i", "e", numbered_events(1), None, 3)
    etag = await hub.history.commit("i", "e", numbered_events(2), None, 0)
    for wrong in (1, 3):
        with pytest.raises(ValueError, match="does not follow the committed history"):
            await hub.history.commit("i", "e", numbered_events(1, start=wrong), etag, wrong)
    with pytest.raises(ValueError, match="replace_execution"):
        await hub.history.commit("i", "e", numbered_events(1), "etag", 2, replace_execution=True)
