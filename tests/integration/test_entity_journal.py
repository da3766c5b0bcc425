"""An entity's journal on Azurite: the Instances row as the committed state, its outbox of
unconfirmed messages, and what a process that did not commit it does with that outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

import durable as df
from durable.core import events as ev
from durable.core.entities import request_message
from durable.core.entity_state import SchedulerState
from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.core.registry import DurableFunction, DurableKind, DurableRegistry
from durable.errors import HistoryConflictError, TaskHubError
from durable.runtime import journals
from durable.runtime.entities import EntityKind
from durable.runtime.journals import EntityRowJournal, outbox_from_json, outbox_to_json
from durable.runtime.kinds import Decision, Loaded
from durable.runtime.planning import UNREAD
from durable.storage import TaskHub
from tests.support.hubs import poll_until, provisioned_hub

pytestmark = pytest.mark.azurite

ENTITY = "@counter@k"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def hub(connection_string: str, hub_name: str) -> AsyncIterator[TaskHub]:
    async with provisioned_hub(connection_string, hub_name) as h:
        yield h


def _counter(ctx: df.DurableEntityContext) -> None:
    value = ctx.get_state(lambda: 0) + 1
    ctx.set_state(value)
    ctx.set_result(value)


def _kind() -> EntityKind:
    registry = DurableRegistry()
    registry.add(DurableFunction(DurableKind.ENTITY, "counter", _counter, "ctx"))
    return EntityKind(registry, max_operations=100, rollback=True,
                      reorder_window=timedelta(minutes=30))


def _call(n: int) -> TaskMessage:
    """An operation called by orchestration `orch` (its response is an outbox message)."""
    body = request_message(f"req-{n}", "add", None, signal=False, parent_instance_id="orch")
    raised = ev.event_raised(NOW, name="op", input=body)
    return TaskMessage(f"orch:{n}:x", ENTITY, raised, None, "orch")


async def _batch(kind: EntityKind, journal: EntityRowJournal, loaded: Loaded,
                 message: TaskMessage) -> tuple[Decision, str]:
    plan = kind.plan(ENTITY, loaded, [message], UNREAD)
    decision = await kind.decide(ENTITY, loaded, plan, NOW)
    return decision, await journal.commit(ENTITY, loaded, decision)


async def test_the_row_is_the_committed_state_with_its_unconfirmed_messages(
    hub: TaskHub,
) -> None:
    kind, journal = _kind(), EntityRowJournal(hub.instances)
    decision, etag = await _batch(kind, journal, await journal.load(ENTITY), _call(1))
    assert [o.message.instance_id for o in decision.outbound] == ["orch"]
    row = await hub.instances.get(ENTITY)
    assert row is not None and row.etag == etag and row.name == "@counter"
    assert SchedulerState.from_json(row.input).state == "1"
    sent = outbox_from_json(row.outbox)
    assert [(e.event_type, e.instance_id) for e in sent] == [(EventType.EventSent, "orch")]
    # Read back by the process that committed it: its own tail is sending the message.
    own = await journal.load(ENTITY)
    assert own.sending and kind.plan(ENTITY, own, [_call(2)], UNREAD).resend_last is False
    assert kind.recover(ENTITY, own, [_call(1)], NOW).outbound == []
    # Read by another host: the committing host may have died before sending.
    other = await EntityRowJournal(hub.instances).load(ENTITY)
    assert not other.sending
    plan = kind.plan(ENTITY, other, [_call(2)], UNREAD)
    assert plan.resend_last
    second = await kind.decide(ENTITY, other, plan, NOW)
    ids = [o.message.message_id for o in second.outbound]
    assert ids == [decision.outbound[0].message.message_id, f"{ENTITY}:1:e"]
    recovered = kind.recover(ENTITY, other, [_call(1)], NOW).outbound
    assert [o.message.message_id for o in recovered] == ids[:1]


async def test_sent_messages_are_confirmed_after_a_quiet_second(
    hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journals, "CONFIRM_AFTER_S", 0.05)
    kind, journal = _kind(), EntityRowJournal(hub.instances)
    decision, etag = await _batch(kind, journal, await journal.load(ENTITY), _call(1))
    rebased: list[tuple[str, str, str, int]] = []
    busy = [True]
    kept = journal.sent(ENTITY, decision, etag,
                        lambda i, old, new, h: rebased.append((i, old, new, len(h))),
                        lambda: not busy[0])
    assert kept is not None and [e.event_type for e in kept] == [EventType.ExecutionStarted]
    # Known sent here at once, before anything is written.
    assert (await journal.load(ENTITY)).history == (await journal.load(ENTITY)).history[:1]
    await asyncio.sleep(0.2)
    row = await hub.instances.get(ENTITY)
    assert row is not None and row.outbox  # not while an episode of the entity runs
    busy[0] = False

    async def confirmed() -> bool:
        got = await hub.instances.get(ENTITY)
        return got is not None and got.outbox == ""

    await poll_until(confirmed, 5)
    row = await hub.instances.get(ENTITY)
    assert row is not None and rebased == [(ENTITY, etag, row.etag, 1)]
    assert not (await EntityRowJournal(hub.instances).load(ENTITY)).history[1:]
    await journal.close()


async def test_a_batch_after_the_sends_leaves_them_out_and_no_confirmation_is_written(
    hub: TaskHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journals, "CONFIRM_AFTER_S", 0.05)
    kind, journal = _kind(), EntityRowJournal(hub.instances)
    decision, etag = await _batch(kind, journal, await journal.load(ENTITY), _call(1))
    journal.sent(ENTITY, decision, etag, lambda *_: None, lambda: True)
    second, etag2 = await _batch(kind, journal, await journal.load(ENTITY), _call(2))
    row = await hub.instances.get(ENTITY)
    assert row is not None
    assert [e.event_id for e in outbox_from_json(row.outbox)] == [1]
    await asyncio.sleep(0.2)  # the first batch's confirmation sees the newer row and stops
    row = await hub.instances.get(ENTITY)
    assert row is not None and row.etag == etag2
    await journal.close()


async def test_a_stale_commit_is_a_conflict(hub: TaskHub) -> None:
    kind, journal = _kind(), EntityRowJournal(hub.instances)
    stale = await journal.load(ENTITY)
    await _batch(kind, journal, stale, _call(1))
    with pytest.raises(HistoryConflictError, match="changed since it was read"):
        await _batch(kind, journal, stale, _call(2))
    fresh = await journal.load(ENTITY)
    await _batch(kind, journal, fresh, _call(2))
    with pytest.raises(HistoryConflictError):
        await _batch(kind, journal, fresh, _call(3))


def test_an_outbox_column_changed_by_hand_is_reported() -> None:
    assert outbox_from_json("") == [] and outbox_to_json([]) == ""
    with pytest.raises(TaskHubError, match="changed outside this library"):
        outbox_from_json('[{"type": "TaskScheduled", "id": 1, "at": "2026-01-01T00:00:00Z"}]')
    with pytest.raises(TaskHubError, match="Outbox column"):
        outbox_from_json("not json")
