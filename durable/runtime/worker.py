"""The durable worker of one process: what the dispatcher Functions call into.

One per task hub and process. It owns the storage clients, the extended-session cache, the
per-instance coalescing of control messages, and the concurrency limits of host.json.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.registry import DurableRegistry, registry
from durable.runtime import config
from durable.runtime.activities import run_activity
from durable.runtime.clock import Clock, clock
from durable.runtime.coalesce import EpisodeCoalescer
from durable.runtime.episode import OrchestrationEpisodes
from durable.runtime.faults import crash_point
from durable.runtime.local import LocalDelivery
from durable.runtime.sender import Sender
from durable.runtime.sessions import SessionCache
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub

log = logging.getLogger("durable.worker")

# A timer message that becomes visible this much before its due time is still applied; the
# queue's visibility delays have one-second granularity.
TIMER_TOLERANCE = timedelta(seconds=1)
# How often a message on its last dequeue is sent again instead of run (see _requeued).
# Generous, because hosts killed in a row each count a dequeue; a message that fails every
# time still reaches the poison queue, after about (maxDequeueCount - 1) x 11 dequeues.
MAX_REQUEUES = 10


class DurableWorker:
    def __init__(
        self,
        settings: TaskHubSettings,
        hub: TaskHub,
        functions: DurableRegistry = registry,
        time: Clock = clock,
    ) -> None:
        self.settings = settings
        self.hub = hub
        self.clock = time
        self.sessions = SessionCache(
            settings.extended_sessions_enabled,
            settings.extended_session_idle_timeout.total_seconds(),
        )
        self.sender = Sender(hub, time, settings.max_chain_delay)
        self.episodes = OrchestrationEpisodes(
            hub,
            functions,
            self.sender,
            time,
            self.sessions,
            settings.max_concurrent_orchestrator_functions,
        )
        self._coalescer = EpisodeCoalescer(self.episodes.run)
        self._registry = functions
        self._activity_limit = asyncio.Semaphore(settings.max_concurrent_activity_functions)
        self.sender.local = LocalDelivery(
            hub,
            functions,
            time,
            self._activity_limit,
            settings.work_item_visibility,
            self._coalescer.submit,
            settings.max_concurrent_activity_functions,
        )
        self._created: asyncio.Future[None] | None = None
        # How many times a timer message was re-sent because it was not due yet.
        self.timer_hops = 0
        self.max_dequeue_count = config.max_dequeue_count()

    async def on_control_message(self, body: bytes | str, dequeue_count: int = 1) -> None:
        message = await self.hub.queues.decode(body)
        if await self._requeued(body, message, dequeue_count):
            return
        if await self._rechain_if_early(message):
            return
        await self._coalescer.submit(message)

    async def on_work_item(self, body: bytes | str, dequeue_count: int = 1) -> None:
        message = await self.hub.queues.decode(body)
        if message.event.event_type is not EventType.TaskScheduled:
            log.warning("Ignoring a %s message on the work-item queue", message.event.event_type)
            return
        if await self._requeued(body, message, dequeue_count):
            return
        async with self._activity_limit:
            done = await run_activity(self._registry, message, self.clock)
        crash_point("in_activity")
        await self.hub.queues.send(done)

    async def _requeued(self, body: bytes | str, message: TaskMessage, dequeue_count: int) -> bool:
        """Keep a message that never failed out of the poison queue.

        The queue trigger poisons a message once it was dequeued maxDequeueCount times, and
        counts dequeues by hosts that were killed or lost the lease, not only failures; for a
        durable message that is loss (its instance waits forever). One dequeue before the
        last (a host may die on that one too) it is therefore sent again as a fresh message
        (same id, receivers de-duplicate) instead of run, at most MAX_REQUEUES times, so one
        that fails every time still ends poisoned.
        """
        limit = self.max_dequeue_count
        threshold = limit - 1 if limit >= 3 else limit
        if limit < 2 or dequeue_count < threshold:
            return False
        if self.hub.queues.requeued_times(body) >= MAX_REQUEUES:
            return False
        times = await self.hub.queues.requeue(body, message)
        log.warning(
            "%s message %s for '%s' was dequeued %d times; sent again as a fresh message "
            "(%d of %d) so that it is not moved to the poison queue",
            message.event.event_type.name, message.message_id, message.instance_id,
            dequeue_count, times, MAX_REQUEUES,
        )
        return True

    async def _rechain_if_early(self, message: TaskMessage) -> bool:
        """Timers longer than the queue's visibility limit travel in hops; resend the rest."""
        event = message.event
        if event.event_type is not EventType.TimerFired or event.fire_at is None:
            return False
        remaining = event.fire_at - self.clock.now()
        if remaining <= TIMER_TOLERANCE:
            return False
        await self.hub.queues.send(message, delay=min(remaining, self.settings.max_chain_delay))
        self.timer_hops += 1
        return True

    async def ready(self) -> None:
        """Create the task hub once per worker; concurrent first calls share one creation."""
        failed = self._created is not None and self._created.done() and (
            self._created.cancelled() or self._created.exception() is not None
        )
        if self._created is None or failed:
            self._created = asyncio.ensure_future(self.hub.create_if_not_exists())
        await asyncio.shield(self._created)

    async def close(self) -> None:
        if self.sender.local is not None:
            await self.sender.local.close()
        await self.hub.close()


# Keyed by event loop too: storage clients and asyncio primitives belong to one loop.
_workers: dict[tuple[int, str, str], DurableWorker] = {}


async def get_worker(settings: TaskHubSettings | None = None) -> DurableWorker:
    """The worker for the app's task hub, creating the hub in storage on first use."""
    settings = settings or config.load_settings()
    loop = asyncio.get_running_loop()
    key = (id(loop), settings.hub_name.lower(), settings.connection_string)
    worker = _workers.get(key)
    if worker is None:
        hub = TaskHub(settings)
        worker = DurableWorker(settings, hub)
        _workers[key] = worker
    await worker.ready()
    return worker
