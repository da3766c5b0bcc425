"""Sending an episode's outbound messages: to the queues, or handled in this process first
(local delivery) with the queued copy as the durable fallback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from durable.core.messages import TaskMessage
from durable.runtime.clock import Clock
from durable.runtime.local import LocalDelivery
from durable.runtime.outbox import Outbound
from durable.storage.interface import OutboundMessage, TaskHubStorage

log = logging.getLogger("durable.orchestration")

# A message for an instance whose start has not been processed yet is sent again after this.
DEFER_DELAY = timedelta(seconds=1)


class Sender:
    """Sends outbound messages of committed episodes."""

    def __init__(self, hub: TaskHubStorage, clock: Clock, max_delay: timedelta) -> None:
        self._hub = hub
        self._clock = clock
        self._max_delay = max_delay
        # Set by the worker: messages are then handled by this process (queue as fallback).
        self.local: LocalDelivery | None = None

    def delay_until(self, visible_at: datetime | None) -> timedelta | None:
        """The visibility delay of a message due at `visible_at` (capped for chaining)."""
        if visible_at is None:
            return None
        delay: timedelta = visible_at - self._clock.now()
        if delay <= timedelta(0):
            return None
        return min(delay, self._max_delay)

    async def send_all(self, outbound: Sequence[Outbound]) -> None:
        """Send every message; those this process can handle go to local delivery."""
        if not outbound:
            return
        local = self.local
        mine, rest = local.split(outbound) if local is not None else ([], list(outbound))
        sends = [
            self._hub.queues.send_many(
                OutboundMessage(o.message, self.delay_until(o.visible_at)) for o in rest
            )
        ]
        if local is not None and mine:
            sends.append(local.schedule(mine))
        await asyncio.gather(*sends)

    async def defer(
        self, messages: Sequence[TaskMessage], delay: timedelta | None = None
    ) -> None:
        """Re-send hidden for `delay` (default DEFER_DELAY; same ids) messages this episode
        does not apply yet: they arrived before their instance started, or the version gate
        left them for another host."""
        log.info("Deferring %d message(s)", len(messages))
        wait = delay or DEFER_DELAY
        await self._hub.queues.send_many(OutboundMessage(m, wait) for m in messages)
