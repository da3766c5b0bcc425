"""Per-instance coalescing of control messages into episodes (no storage involved)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.runtime.coalesce import EpisodeCoalescer, Tail

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def message(instance: str, n: int) -> TaskMessage:
    event = HistoryEvent(EventType.TaskCompleted, T0, task_scheduled_id=n, result=str(n))
    return TaskMessage(f"{instance}-{n}", instance, event, "e")


async def test_messages_arriving_together_share_an_episode() -> None:
    batches: list[list[str]] = []
    gate = asyncio.Event()

    async def run(instance_id: str, messages: list[TaskMessage]) -> None:
        batches.append([m.message_id for m in messages])
        await gate.wait()

    coalescer = EpisodeCoalescer(run)
    tasks = [asyncio.create_task(coalescer.submit(message("a", i))) for i in range(5)]
    while not batches:
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    # The first message starts an episode at once; the four that arrived meanwhile share one.
    assert batches == [["a-0"], ["a-1", "a-2", "a-3", "a-4"]]


async def test_instances_run_independently_and_failures_reach_every_message() -> None:
    seen: list[str] = []

    async def run(instance_id: str, messages: list[TaskMessage]) -> None:
        seen.append(instance_id)
        if instance_id == "bad":
            raise ConnectionError("storage down")

    coalescer = EpisodeCoalescer(run)
    good = asyncio.gather(*(coalescer.submit(message("good", i)) for i in range(3)))
    bad = [asyncio.create_task(coalescer.submit(message("bad", i))) for i in range(3)]
    await good
    for task in bad:
        with pytest.raises(ConnectionError):
            await task
    assert "good" in seen and "bad" in seen


async def test_a_message_taken_by_an_earlier_batch_runs_no_empty_episode() -> None:
    # Futures are settled only when a batch's tail is done, which may be after the next
    # batch took the lock: a message already taken must not start an episode of nothing
    # (for a live session that cost a whole history read).
    batches: list[list[str]] = []
    tails: list[asyncio.Future[None]] = []
    committed = asyncio.Event()

    async def run(instance_id: str, messages: list[TaskMessage]) -> Tail:
        batches.append([m.message_id for m in messages])
        await committed.wait()
        tail: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tails.append(tail)
        return Tail(tail)

    coalescer = EpisodeCoalescer(run)
    tasks = [asyncio.create_task(coalescer.submit(message("a", i))) for i in range(4)]
    while not batches:
        await asyncio.sleep(0)
    committed.set()
    while len(tails) < 2:
        await asyncio.sleep(0)
    for _ in range(20):  # let every waiter take the lock in turn
        await asyncio.sleep(0)
    assert batches == [["a-0"], ["a-1", "a-2", "a-3"]]
    assert not any(task.done() for task in tasks)  # each waits for its own batch's tail
    for tail in tails:
        tail.set_result(None)
    await asyncio.gather(*tasks)
    assert batches == [["a-0"], ["a-1", "a-2", "a-3"]]


async def test_only_the_held_messages_wait_for_the_tail() -> None:
    # The others are acknowledged at the commit; the held one (the anchor whose
    # redelivery would repair a crash in the tail) waits for the tail.
    tail: asyncio.Future[None] | None = None
    gate = asyncio.Event()

    async def run(instance_id: str, messages: list[TaskMessage]) -> Tail:
        nonlocal tail
        await gate.wait()
        tail = asyncio.get_running_loop().create_future()
        return Tail(tail, frozenset({"a-1"}))

    coalescer = EpisodeCoalescer(run)
    first = asyncio.create_task(coalescer.submit(message("a", 0)))
    await asyncio.sleep(0)
    rest = {i: asyncio.create_task(coalescer.submit(message("a", i))) for i in (1, 2, 3)}
    gate.set()
    await first  # its own batch: not held
    await asyncio.gather(rest[2], rest[3])
    assert not rest[1].done()
    assert tail is not None
    tail.set_result(None)
    await rest[1]
