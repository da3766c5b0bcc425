"""Per-instance coalescing of control messages into episodes (no storage involved)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.runtime.coalesce import EpisodeCoalescer

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
