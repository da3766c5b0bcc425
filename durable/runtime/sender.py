"""Effects of an episode beyond its history commit: outbound messages and the Instances row."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from durable.core.history import HistoryEvent, OrchestrationStatus
from durable.core.messages import TaskMessage
from durable.runtime.clock import Clock
from durable.runtime.local import LocalDelivery
from durable.runtime.outbox import Outbound
from durable.runtime.state import summarize
from durable.storage.instance_store import InstanceUpdate
from durable.storage.queues import OutboundMessage

log = logging.getLogger("durable.orchestration")

# A message for an instance whose start has not been processed yet is sent again after this.
DEFER_DELAY = timedelta(seconds=1)


class Sender:
    def __init__(self, hub: Any, clock: Clock, max_delay: timedelta) -> None:
        self._hub = hub
        self._clock = clock
        self._max_delay = max_delay
        # Set by the worker: messages are then handled by this process (queue as fallback).
        self.local: LocalDelivery | None = None

    def delay_until(self, visible_at: Any) -> timedelta | None:
        if visible_at is None:
            return None
        delay: timedelta = visible_at - self._clock.now()
        if delay <= timedelta(0):
            return None
        return min(delay, self._max_delay)

    async def send_all(self, outbound: Sequence[Outbound]) -> None:
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

    async def defer(self, messages: Sequence[TaskMessage]) -> None:
        """Re-send with a delay (same ids) messages that arrived before their instance started."""
        log.info("Deferring %d message(s) until their instance starts", len(messages))
        await self._hub.queues.send_many(OutboundMessage(m, DEFER_DELAY) for m in messages)

    async def update_instance(self, instance_id: str, outcome: Any) -> None:
        started: HistoryEvent = outcome.started
        status: OrchestrationStatus = outcome.status
        now = self._clock.now()
        update = InstanceUpdate(
            execution_id=outcome.execution_id,
            name=started.name or "",
            version=started.version,
            input=started.input,
            created_time=started.timestamp,
            runtime_status=status,
            output=_output_of(status, outcome.output, outcome.failure_details),
            custom_status=outcome.custom_status,
            last_updated_time=now,
            completed_time=now if _is_terminal(status) else None,
        )
        await self._hub.instances.update_from_episode(instance_id, update)

    async def repair_instance(self, instance_id: str, history: Sequence[HistoryEvent]) -> None:
        """Make the Instances row agree with committed history after a crash in between."""
        summary = summarize(history)
        if summary.started is None or summary.status is None:
            return
        record = await self._hub.instances.get(instance_id)
        if record is not None and record.runtime_status is summary.status:
            return
        completed = next(
            (e for e in reversed(history) if e.event_type.name == "ExecutionCompleted"), None
        )
        now = self._clock.now()
        update = InstanceUpdate(
            execution_id=summary.started.execution_id or "",
            name=summary.started.name or "",
            input=summary.started.input,
            created_time=summary.started.timestamp,
            runtime_status=summary.status,
            output=_output_of(
                summary.status,
                completed.result if completed else None,
                completed.failure_details if completed else None,
            ),
            last_updated_time=now,
            completed_time=now if _is_terminal(summary.status) else None,
        )
        await self._hub.instances.update_from_episode(instance_id, update)


def _is_terminal(status: OrchestrationStatus) -> bool:
    return status in (
        OrchestrationStatus.Completed,
        OrchestrationStatus.Failed,
        OrchestrationStatus.Terminated,
        OrchestrationStatus.Canceled,
    )


def _output_of(status: OrchestrationStatus, output: str | None, failure: Any) -> str | None:
    if status is OrchestrationStatus.Failed and failure is not None:
        import json

        return json.dumps(str(failure.error_message))
    return output
