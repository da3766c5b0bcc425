"""Local delivery: the host that sends a message handles it itself, the queue is the fallback.

Work items, sub-orchestration starts, completions to a parent, events and short timers are
sent hidden for a lease, and this process acts on them at once: it runs the activity and
applies its result in-process (no completion message at all), or applies the control message
to its instance. Only after the effect is committed is the queued copy deleted. If this
process dies first, the copy becomes visible when the lease runs out and any host handles it
(activities are at-least-once; control messages are de-duplicated by id). If handling here
fails, the copy is made visible at once for the ordinary path.

A step of a workflow therefore costs no queue round trip and no wait on queue polling, which
on Azure Functions can back off to a minute between polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.registry import DurableRegistry
from durable.runtime.activities import run_activity
from durable.runtime.clock import Clock
from durable.runtime.faults import crash_point
from durable.runtime.outbox import Outbound
from durable.storage.queues import ReceivedMessage

log = logging.getLogger("durable.local")

Submit = Callable[[TaskMessage], Awaitable[None]]

# Timers due later than this are left to the queue's visibility delay alone.
MAX_LOCAL_TIMER = timedelta(minutes=1)


class LocalDelivery:
    def __init__(
        self,
        hub: Any,
        registry: DurableRegistry,
        clock: Clock,
        activity_limit: asyncio.Semaphore,
        lease: timedelta,
        submit: Submit,
        activity_slots: int,
    ) -> None:
        self._hub = hub
        self._registry = registry
        self._clock = clock
        self._activity_limit = activity_limit
        self._lease = lease
        self._submit = submit
        self._running: set[asyncio.Task[None]] = set()
        self._activity_slots = activity_slots
        self._activities_held = 0

    def split(self, outbound: Sequence[Outbound]) -> tuple[list[Outbound], list[Outbound]]:
        """(handled here, left to the queue).

        Activities are taken only up to this host's free activity slots: the rest go to the
        work-item queue visible at once, so a large fan-out spreads over every host instead
        of waiting for this one. Timers due later than a minute stay with the queue.
        """
        mine: list[Outbound] = []
        rest: list[Outbound] = []
        for o in outbound:
            if o.to_work_items:
                if self._activities_held < self._activity_slots:
                    self._activities_held += 1
                    mine.append(o)
                else:
                    rest.append(o)
            elif o.visible_at is None or o.visible_at - self._clock.now() <= MAX_LOCAL_TIMER:
                mine.append(o)
            else:
                rest.append(o)
        return mine, rest

    async def schedule(self, outbound: Sequence[Outbound]) -> None:
        """Queue the messages hidden, then handle them in this process."""

        async def send(o: Outbound) -> tuple[ReceivedMessage, float]:
            due = 0.0
            if o.visible_at is not None:
                due = max(0.0, (o.visible_at - self._clock.now()).total_seconds())
            hidden = self._lease + timedelta(seconds=due)
            return await self._hub.queues.send_leased(o.message, delay=hidden), due

        try:
            sent = await asyncio.gather(*(send(o) for o in outbound))
        except BaseException:
            self._activities_held -= sum(1 for o in outbound if o.to_work_items)
            raise
        for handle, due in sent:
            task = asyncio.create_task(self._run(handle, due))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, handle: ReceivedMessage, due: float) -> None:
        try:
            await self._run_held(handle, due)
        finally:
            if handle.message.event.event_type is EventType.TaskScheduled:
                self._activities_held -= 1

    async def _run_held(self, handle: ReceivedMessage, due: float) -> None:
        holder = [handle]
        keeper = asyncio.create_task(self._keep_hidden(holder, due))
        try:
            if due:
                await asyncio.sleep(due)
            await self._handle(handle.message)
        except Exception as exc:
            log.warning(
                "%s for '%s' was not handled in-process (%s); the queued copy takes over",
                handle.message.event.event_type.name, handle.message.instance_id, exc,
            )
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self._release(holder[0])
            return
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        try:
            await self._hub.queues.delete(holder[0])
        except Exception as exc:  # a left-over copy is recognised as a duplicate later
            log.warning("Could not delete a handled message: %s", exc)

    async def _handle(self, message: TaskMessage) -> None:
        if message.event.event_type is EventType.TaskScheduled:
            async with self._activity_limit:
                done = await run_activity(self._registry, message, self._clock)
            crash_point("in_activity")
            await self._submit(done)
        else:
            await self._submit(message)

    async def _keep_hidden(self, holder: list[ReceivedMessage], due: float) -> None:
        """Renew the copy's invisibility while handling takes longer than half a lease."""
        half = self._lease.total_seconds() / 2
        await asyncio.sleep(due + half)
        while True:
            renewed = await self._hub.queues.renew(holder[0], self._lease)
            if renewed is None:
                return
            holder[0] = renewed
            await asyncio.sleep(half)

    async def _release(self, handle: ReceivedMessage) -> None:
        try:
            await self._hub.queues.renew(handle, timedelta(0))
        except Exception as exc:  # it becomes visible when the lease ends anyway
            log.warning("Could not release a message to the queue: %s", exc)

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
