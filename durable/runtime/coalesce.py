"""Per-instance coalescing of control messages into episodes.

A Functions host hands each queue message to its own invocation. Invocations for one instance
that are in flight together are folded into one episode here (one replay, one commit), as
Durable Task batches a fan-in; each invocation still returns only once its own message is
committed, so the host deletes no message before its effect is durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from durable.core.messages import TaskMessage

EpisodeRunner = Callable[[str, list[TaskMessage]], Awaitable[None]]


@dataclass
class _InstanceQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: list[tuple[TaskMessage, asyncio.Future[None]]] = field(default_factory=list)
    users: int = 0


class EpisodeCoalescer:
    def __init__(self, run_episode: EpisodeRunner) -> None:
        self._run = run_episode
        self._queues: dict[str, _InstanceQueue] = {}

    async def submit(self, message: TaskMessage) -> None:
        """Return when `message` has been applied (or deliberately dropped); raise if not."""
        q = self._queues.setdefault(message.instance_id, _InstanceQueue())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        q.pending.append((message, done))
        q.users += 1
        try:
            async with q.lock:
                if not done.done():
                    batch, q.pending = q.pending, []
                    await self._run_batch(message.instance_id, batch)
            await done
        finally:
            q.users -= 1
            if q.users == 0:
                self._queues.pop(message.instance_id, None)

    async def _run_batch(
        self, instance_id: str, batch: list[tuple[TaskMessage, asyncio.Future[None]]]
    ) -> None:
        try:
            await self._run(instance_id, [m for m, _ in batch])
        except Exception as exc:
            # Every invocation of the batch fails with the episode's error (each awaits its
            # own future), so the host leaves all their messages for redelivery.
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        except BaseException:
            for _, fut in batch:
                if not fut.done():
                    fut.cancel()
            raise
        for _, fut in batch:
            if not fut.done():
                fut.set_result(None)
