"""The durable worker of one process: what the dispatcher Functions call into.

One per task hub and process. It owns the storage clients, the extended-session cache, the
per-instance coalescing of control messages, and the concurrency limits of host.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from durable.core.entities import is_entity_id
from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.core.registry import DurableRegistry
from durable.runtime.activities import run_activity
from durable.runtime.clock import Clock
from durable.runtime.coalesce import EpisodeCoalescer, Tail
from durable.runtime.entities import EntityKind
from durable.runtime.faults import crash_point
from durable.runtime.http_activity import HttpActivity
from durable.runtime.instance_rows import InstanceRows
from durable.runtime.local import LocalDelivery
from durable.runtime.orchestrations import OrchestrationKind
from durable.runtime.outbox import Outbound
from durable.runtime.pipeline import EpisodePipeline
from durable.runtime.sender import Sender
from durable.runtime.sessions import SessionCache
from durable.runtime.verification import sampler
from durable.runtime.version_gate import VersionGate
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from durable.storage.transport import is_transient

log = logging.getLogger("durable.worker")

# A timer message that becomes visible this much before its due time is still applied; the
# queue's visibility delays have one-second granularity.
TIMER_TOLERANCE = timedelta(seconds=1)
# How often a message whose handler failed is sent again as a fresh message (see
# _failures_counted). Past that, failures go back to the queue trigger, which poisons the
# message at maxDequeueCount: about MAX_REQUEUES + maxDequeueCount tries in all.
MAX_REQUEUES = 10


class DurableWorker:
    """Runs the durable work of one task hub in this process (see the module docstring)."""

    def __init__(
        self,
        settings: TaskHubSettings,
        hub: TaskHub,
        functions: DurableRegistry,
        time: Clock | None = None,
    ) -> None:
        time = time or Clock()
        self.settings = settings
        self.hub = hub
        self.clock = time
        self.sessions = SessionCache(
            settings.extended_sessions_enabled,
            settings.extended_session_idle_timeout.total_seconds(),
        )
        self.sender = Sender(hub, time, settings.max_chain_delay)
        rows = InstanceRows(hub.instances)
        entity_rows = InstanceRows(hub.instances, guarded=False)
        orchestrations = OrchestrationKind(
            functions,
            check=sampler(settings.verify_live_sessions, settings.verify_live_sessions_sample_rate),
            window=settings.max_queued_activities_per_orchestration,
            http_poll_interval=settings.http_default_async_request_sleep,
            gate=VersionGate.from_settings(settings),
            hub_name=settings.hub_name,
        )
        entities = EntityKind(
            functions,
            max_operations=settings.max_entity_operation_batch_size,
            rollback=settings.rollback_entity_operations_on_exceptions,
            reorder_window=settings.entity_message_reorder_window,
            default_version=settings.default_version,
            hub_name=settings.hub_name,
        )
        # One pipeline per kind of instance, each with its host.json concurrency limit.
        self.episodes = EpisodePipeline(
            hub, lambda _iid: orchestrations, self.sender, rows, time, self.sessions,
            settings.max_concurrent_orchestrator_functions,
        )
        self.entity_batches = EpisodePipeline(
            hub, lambda _iid: entities, self.sender, entity_rows, time, self.sessions,
            settings.max_concurrent_entity_functions,
        )
        self._coalescer = EpisodeCoalescer(self._run_episode)
        self._registry = functions
        self._activity_limit = asyncio.Semaphore(settings.max_concurrent_activity_functions)
        # Sends the requests of call_http (BuiltIn::HttpActivity work items).
        self.http = HttpActivity()
        self.sender.local = LocalDelivery(
            hub,
            functions,
            time,
            self._activity_limit,
            settings.work_item_visibility,
            self._coalescer.submit,
            settings.max_concurrent_activity_functions,
            http=self.http,
        )
        # How many times a timer message was re-sent because it was not due yet.
        self.timer_hops = 0
        self.max_dequeue_count = settings.max_dequeue_count

    async def _run_episode(
        self, instance_id: str, messages: list[TaskMessage]
    ) -> Tail | None:
        pipeline = self.entity_batches if is_entity_id(instance_id) else self.episodes
        return await pipeline.run(instance_id, messages)

    async def on_control_message(self, body: bytes | str, dequeue_count: int = 1) -> None:
        """Handle one control-queue message (the control dispatcher Function's body); return
        once its effect is committed, or once it was sent again after a failure; raise to
        leave it for redelivery."""
        message = await self.hub.queues.decode(body)
        if await self._requeued(body, message, dequeue_count):
            return
        async with self._failures_counted(body, message):
            if await self._rechain_if_early(message):
                return
            await self._coalescer.submit(message)

    async def on_work_item(self, body: bytes | str, dequeue_count: int = 1) -> None:
        """Run the activity of one work-item message and send its completion."""
        message = await self.hub.queues.decode(body)
        if message.event.event_type is not EventType.TaskScheduled:
            log.warning("Ignoring a %s message on the work-item queue", message.event.event_type)
            return
        if await self._requeued(body, message, dequeue_count):
            return
        async with self._failures_counted(body, message):
            async with self._activity_limit:
                done = await run_activity(self._registry, message, self.clock, self.http,
                                          self.hub.hub_name)
            crash_point("in_activity")
            await self.hub.queues.send(done)

    async def _requeued(self, body: bytes | str, message: TaskMessage, dequeue_count: int) -> bool:
        """Keep a message that its hosts lost out of the poison queue.

        The queue trigger poisons a message once it was dequeued maxDequeueCount times, and
        counts the dequeues of hosts that were killed or lost the lease, not only failures;
        for a durable message that is loss (its instance waits forever). From its second
        dequeue on (as early as it can tell, since the hosts that should send the copy may
        be killed too, or lose the lease again on a starved machine) it is therefore sent
        again as a fresh message (same id, receivers de-duplicate) instead of run, as often
        as that happens: hosts lost it, or storage failed, it did not fail itself (such a
        failure is counted and sent again by `_failures_counted`). One that failed
        MAX_REQUEUES times already is left to the queue trigger.
        """
        if self.max_dequeue_count < 2 or dequeue_count < 2:
            return False
        if self.hub.queues.requeued_times(body) >= MAX_REQUEUES:
            return False
        await self.hub.queues.requeue(body, message, failed=False)
        log.warning(
            "%s message %s for '%s' was dequeued %d times by hosts that did not finish it; "
            "sent again as a fresh message so that it is not moved to the poison queue",
            message.event.event_type.name, message.message_id, message.instance_id,
            dequeue_count,
        )
        return True

    @contextlib.asynccontextmanager
    async def _failures_counted(self, body: bytes | str, message: TaskMessage
                                ) -> AsyncIterator[None]:
        """Count a failure of the handler in the message itself, which is sent again.

        Left to the queue trigger, a failure costs a dequeue like a lost host does, and
        `_requeued` could not tell them apart: it would either send a failing message
        again forever or poison one that only lost its hosts. Sent again here with its
        failures counted, a message fails into the poison queue after MAX_REQUEUES sends
        and maxDequeueCount more tries, however often hosts lost it. Storage's own failures
        (unreachable, throttled, a conflict) are not the message's: they go back to the
        trigger uncounted, and `_requeued` keeps them out of the poison queue, as Durable
        Task retries a message for as long as storage fails.
        """
        try:
            yield
        except Exception as exc:
            if is_transient(exc) or self.hub.queues.requeued_times(body) >= MAX_REQUEUES:
                raise
            times = await self.hub.queues.requeue(body, message, failed=True)
            log.error(
                "%s message %s for '%s' failed: %s: %s; sent again as a fresh message "
                "(%d of %d)",
                message.event.event_type.name, message.message_id, message.instance_id,
                type(exc).__name__, exc, times, MAX_REQUEUES,
            )

    async def _rechain_if_early(self, message: TaskMessage) -> bool:
        """Timers longer than the queue's visibility limit travel in hops; resend the rest."""
        event = message.event
        delayed = event.event_type in (EventType.TimerFired, EventType.EventRaised)
        if not delayed or event.fire_at is None:
            return False
        remaining = event.fire_at - self.clock.now()
        if remaining <= TIMER_TOLERANCE:
            return False
        await self.hub.queues.send(message, delay=min(remaining, self.settings.max_chain_delay))
        self.timer_hops += 1
        return True

    async def deliver(self, message: TaskMessage) -> None:
        """Send a control message from this process (a client's start): handled here at
        once, as an episode's own messages are, with the queued copy as the fallback."""
        await self.sender.send_all([Outbound(message)])

    async def ready(self) -> None:
        """Create the task hub in storage before the first message is handled."""
        await self.hub.create_if_not_exists()

    async def close(self) -> None:
        """Hand unfinished local work back to the queues and close the storage clients."""
        if self.sender.local is not None:
            await self.sender.local.close()
        await self._coalescer.close()
        await self.hub.close()
