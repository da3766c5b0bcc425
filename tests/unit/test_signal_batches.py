"""Client signals to one entity go out together while a send is in flight."""

from __future__ import annotations

import asyncio
import json

import pytest

import durable as df
from durable.client.signal_batches import SignalBatcher
from durable.core.entities import EntityRequest, unpack_batch
from durable.core.entity_scheduler import Inbound, run_batch
from durable.core.entity_state import SchedulerState
from tests.unit.test_entity_scheduler import NOW, setter


async def test_signals_asked_for_during_a_send_share_the_next_one() -> None:
    sent: list[tuple[str, str, str]] = []
    gate = asyncio.Event()

    async def send(target: str, mid: str, batch: str) -> None:
        sent.append((target, mid, batch))
        if len(sent) == 1:
            await gate.wait()  # the first send is slow: the others pile up behind it

    batcher = SignalBatcher(send)
    one = EntityRequest("r1", "set", True, "1")
    first = asyncio.create_task(batcher.signal("@e@k", "c:1:c", one))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.signal("@e@k", f"c:{i}:c",
                                               EntityRequest(f"r{i}", "set", True, str(i))))
            for i in range(2, 6)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *rest)
    assert [m for _, m, _ in sent] == ["c:1:c", "c:2:c"]  # two queue messages for five
    members = unpack_batch(sent[1][2])
    assert [m for m, _ in members] == ["c:2:c", "c:3:c", "c:4:c", "c:5:c"]
    chain = [EntityRequest.from_json(r).predecessor for _, r in members]
    assert chain == ["c:1:c", "c:2:c", "c:3:c", "c:4:c"]


async def test_a_failed_send_fails_its_signals_and_is_not_a_predecessor() -> None:
    calls = 0

    async def send(target: str, mid: str, batch: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("storage away")

    batcher = SignalBatcher(send)
    with pytest.raises(ConnectionError):
        await batcher.signal("@e@k", "c:1:c", EntityRequest("r1", "set", True, "1"))
    captured: list[str] = []

    async def record(target: str, mid: str, batch: str) -> None:
        captured.append(batch)

    batcher._send = record
    await batcher.signal("@e@k", "c:2:c", EntityRequest("r2", "set", True, "2"))
    (member,) = unpack_batch(captured[0])
    assert EntityRequest.from_json(member[1]).predecessor is None


def test_the_entity_unpacks_a_batch_in_order() -> None:
    members = [{"messageId": f"c:{i}:c", **EntityRequest(f"r{i}", "set", True,
                                                          json.dumps(i)).to_dict()}
               for i in range(1, 4)]
    out = run_batch(df.EntityId("e", "k"), SchedulerState(),
                    [Inbound("c:1:c", "ops", json.dumps(members))], setter, NOW)
    assert json.loads(out.state.state or "") == [1, 2, 3]
    assert all(out.state.has_applied(f"c:{i}:c") for i in range(1, 4))
    bad = run_batch(df.EntityId("e", "k"), SchedulerState(), [Inbound("c:9:c", "ops", "{}")],
                    setter, NOW)
    assert bad.notes and bad.state.state is None
