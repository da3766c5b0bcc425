"""Per-instance coalescing of control messages into episodes.

A Functions host hands each queue message to its own invocation. Invocations for one instance
that are in flight together are folded into one episode here (one replay, one commit), as
Durable Task batches a fan-in; each invocation still returns only once its own message is
committed, so the host deletes no message before its effect is durable; at least one of
the episode's invocations (see `Tail`) returns only once the episode's messages are sent
too, so a crash before then is repaired by that message's redelivery.

An episode has two parts: up to its commit, which must not overlap the instance's next
episode, and its tail (sending what it decided, writing the Instances row), which may. The
instance is free for the next episode as soon as the commit is done; the held invocations
wait for the tail. A step of a workflow then does not wait for the previous step's queue writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from durable.core.messages import TaskMessage


@dataclass(frozen=True)
class Tail:
    """What is left of an episode after its commit, and which of its messages wait for it.

    `held` names the messages acknowledged only once `done` is; the others are acknowledged
    at once (None: all of them wait). Holding one message back is enough for recovery: its
    redelivery after a crash re-sends the whole episode's outbox. Acknowledging the rest at
    the commit keeps a fan-in's queued copies short-lived, which keeps the queues small.
    """

    done: Awaitable[None]
    held: frozenset[str] | None = None


# Runs an episode up to its commit; returns its tail (None: nothing left to do).
EpisodeRunner = Callable[[str, list[TaskMessage]], Awaitable[Tail | None]]


@dataclass
class _InstanceQueue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: list[tuple[TaskMessage, asyncio.Future[None]]] = field(default_factory=list)
    users: int = 0


class EpisodeCoalescer:
    def __init__(self, run_episode: EpisodeRunner) -> None:
        self._run = run_episode
        self._queues: dict[str, _InstanceQueue] = {}
        self._tails: set[asyncio.Task[None]] = set()

    async def submit(self, message: TaskMessage) -> None:
        """Return when `message` has been applied (or deliberately dropped); raise if not."""
        q = self._queues.setdefault(message.instance_id, _InstanceQueue())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        q.pending.append((message, done))
        q.users += 1
        try:
            async with q.lock:
                # An earlier batch may have taken this message: its future is settled only
                # after that batch's tail, so look at what is left rather than at the future.
                if q.pending and not done.done():
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
        futures = [fut for _, fut in batch]
        try:
            tail = await self._run(instance_id, [m for m, _ in batch])
        except Exception as exc:
            # Every invocation of the batch fails with the episode's error (each awaits its
            # own future), so the host leaves all their messages for redelivery.
            _fail(futures, exc)
            return
        except BaseException:
            for fut in futures:
                if not fut.done():
                    fut.cancel()
            raise
        if tail is None:
            _succeed(futures)
            return
        waiting: list[asyncio.Future[None]] = []
        settled: list[asyncio.Future[None]] = []
        for m, fut in batch:
            held = tail.held is None or m.message_id in tail.held
            (waiting if held else settled).append(fut)
        _succeed(settled)
        task = asyncio.ensure_future(tail.done)
        self._tails.add(task)
        task.add_done_callback(lambda t: self._finished(t, waiting))

    def _finished(self, tail: asyncio.Task[None], futures: list[asyncio.Future[None]]) -> None:
        self._tails.discard(tail)
        if tail.cancelled():
            for fut in futures:
                if not fut.done():
                    fut.cancel()
        elif tail.exception() is not None:
            _fail(futures, tail.exception())  # type: ignore[arg-type]
        else:
            _succeed(futures)

    async def close(self) -> None:
        """Let the tails in flight finish (their messages are then acknowledged)."""
        if self._tails:
            await asyncio.gather(*self._tails, return_exceptions=True)


def _succeed(futures: list[asyncio.Future[None]]) -> None:
    for fut in futures:
        if not fut.done():
            fut.set_result(None)


def _fail(futures: list[asyncio.Future[None]], exc: BaseException) -> None:
    for fut in futures:
        if not fut.done():
            fut.set_exception(exc)
