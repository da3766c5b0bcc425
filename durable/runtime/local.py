"""Activities run by the host that scheduled them, with the work-item queue as the fallback.

The work item is sent hidden for the work-item lease; this process runs the activity at once
and applies its result to the orchestration in-process, so a step costs no queue round trip
and no completion message. Only after the orchestration has committed the completion is the
work item deleted. If this process dies first, the hidden work item becomes visible when the
lease runs out and any host runs the activity again (activities are at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from durable.core.messages import TaskMessage
from durable.registry import DurableRegistry
from durable.runtime.activities import run_activity
from durable.runtime.clock import Clock
from durable.runtime.faults import crash_point
from durable.storage.queues import ReceivedMessage

log = logging.getLogger("durable.activity")

Deliver = Callable[[TaskMessage], Awaitable[None]]


class LocalActivities:
    def __init__(
        self,
        hub: Any,
        registry: DurableRegistry,
        clock: Clock,
        limit: asyncio.Semaphore,
        lease: timedelta,
        deliver: Deliver,
    ) -> None:
        self._hub = hub
        self._registry = registry
        self._clock = clock
        self._limit = limit
        self._lease = lease
        self._deliver = deliver
        self._running: set[asyncio.Task[None]] = set()

    async def schedule(self, work_items: Sequence[TaskMessage]) -> None:
        """Queue the work items (hidden) and start running them here."""
        handles = await asyncio.gather(
            *(self._hub.queues.send_leased(m, delay=self._lease) for m in work_items)
        )
        for handle in handles:
            task = asyncio.create_task(self._run(handle))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, handle: ReceivedMessage) -> None:
        holder = [handle]
        keeper = asyncio.create_task(self._keep_hidden(holder))
        try:
            async with self._limit:
                done = await run_activity(self._registry, handle.message, self._clock)
            crash_point("in_activity")
            await self._deliver(done)
        except Exception as exc:  # the queued work item is the fallback
            log.warning(
                "Activity '%s' of '%s' did not complete in-process (%s); the queued work item "
                "will run it again", handle.message.event.name, handle.message.instance_id, exc
            )
            return
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        try:
            await self._hub.queues.delete(holder[0])
        except Exception as exc:  # a left-over work item only re-runs the activity
            log.warning("Could not delete a completed work item: %s", exc)

    async def _keep_hidden(self, holder: list[ReceivedMessage]) -> None:
        """Renew the work item's invisibility while the activity runs longer than half a lease."""
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 2)
            renewed = await self._hub.queues.renew(holder[0], self._lease)
            if renewed is None:
                return
            holder[0] = renewed

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
