"""Local delivery: the host that sends a message handles it itself, the queue is the fallback.

Work items, sub-orchestration starts, completions to a parent, events and short timers are
sent hidden, and this process acts on them at once: it runs the activity and applies its
result in-process (no completion message at all), or applies the control message to its
instance. Only after the effect is committed is the queued copy deleted. If this process
dies first, the copy becomes visible when it is no longer hidden and any host handles it
(activities are at-least-once; control messages are de-duplicated by id). If handling here
fails, the copy is made visible at once for the ordinary path.

The handling starts while the copy is still being sent. The episode that applies the
message may be acknowledged by this very message alone (see `recovery_anchor`): should this
process die after that commit and before its sends, something must still re-send them.
- An activity's result and a timer's firing, answers the instance receives to its own
  work, are applied at once: the episode that sent the work is not acknowledged before the
  copy is queued, so its redelivery finds the answer in history and recovers the episode
  that applied it as well (`OrchestrationKind.recover`).
- Any other message (a start, an event, a sub-orchestration's start or completion, an
  entity operation or answer) is applied only once its copy is queued: its redelivery is
  then what recovers the episode that applied it.

Activities beyond this host's free slots wait here in a backlog, hidden only briefly
(`STEAL_AFTER`): if this host has not started one by then, it is visible in the work-item
queue and any host may take it; when this host's turn comes it first re-claims the message
(a renewal with its pop receipt), and skips it if another host got there first. A large
fan-out thus runs here at full speed, and spreads to other hosts when this one falls behind.

A step of a workflow costs no queue round trip and no wait on queue polling, which on Azure
Functions can back off to a minute between polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.core.registry import DurableRegistry
from durable.runtime.activities import run_activity
from durable.runtime.clock import Clock
from durable.runtime.faults import crash_point
from durable.runtime.http_activity import HttpActivity
from durable.runtime.outbox import Outbound
from durable.storage.interface import ReceivedMessage, TaskHubStorage

log = logging.getLogger("durable.local")

Submit = Callable[[TaskMessage], Awaitable[None]]

# Timers due later than this are left to the queue's visibility delay alone.
MAX_LOCAL_TIMER = timedelta(minutes=1)
# A backlogged work item becomes visible to other hosts after this long.
STEAL_AFTER = timedelta(seconds=10)
# Claim a backlogged item before running it from this long before it could be visible.
CLAIM_MARGIN_S = 1.0


class LocalDelivery:
    def __init__(
        self,
        hub: TaskHubStorage,
        registry: DurableRegistry,
        clock: Clock,
        activity_limit: asyncio.Semaphore,
        lease: timedelta,
        submit: Submit,
        activity_slots: int,
        http: HttpActivity | None = None,
    ) -> None:
        self._hub = hub
        self._http = http
        self._registry = registry
        self._clock = clock
        self._activity_limit = activity_limit
        self._lease = lease
        self._submit = submit
        self._slots = activity_slots
        self._activities = 0  # work items taken here and not finished
        self._running: set[asyncio.Task[None]] = set()

    def split(self, outbound: Sequence[Outbound]) -> tuple[list[Outbound], list[Outbound]]:
        """(handled here, left to the queue): timers due in over a minute stay queued."""
        mine: list[Outbound] = []
        rest: list[Outbound] = []
        for o in outbound:
            near = o.visible_at is None or o.visible_at - self._clock.now() <= MAX_LOCAL_TIMER
            (mine if near else rest).append(o)
        return mine, rest

    async def schedule(self, outbound: Sequence[Outbound]) -> None:
        """Queue the messages hidden and handle them in this process, at once.

        The handling starts while the hidden copies are still being sent (the copy is only
        needed if this process dies, and only then is it used), so a step of a workflow
        does not wait for a queue round trip. This returns once every copy is queued: the
        episode that sent them may then be acknowledged, its outbox being safe."""
        sent_at = time.monotonic()
        sends: list[asyncio.Task[ReceivedMessage]] = []
        for o in outbound:
            due = 0.0
            if o.visible_at is not None:
                due = max(0.0, (o.visible_at - self._clock.now()).total_seconds())
            backlog = False
            if o.to_work_items:
                backlog = self._activities >= self._slots
                self._activities += 1
            hidden = (STEAL_AFTER if backlog else self._lease) + timedelta(seconds=due)
            copy = _Copy()
            # Until STEAL_AFTER has passed nobody else can have it: no claim needed.
            claim_after = sent_at + STEAL_AFTER.total_seconds() - CLAIM_MARGIN_S
            # The handling is created first, so it runs before the send's own work on the
            # event loop: the copy is needed only if this process dies.
            task = asyncio.create_task(
                self._run(o.message, copy, due, claim_after if backlog else None)
            )
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            copy.sending = asyncio.create_task(
                self._hub.queues.send_leased(o.message, delay=hidden)
            )
            sends.append(copy.sending)
        results = await asyncio.gather(*sends, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _run(
        self, message: TaskMessage, copy: _Copy, due: float, claim_after: float | None
    ) -> None:
        try:
            if due:
                await asyncio.sleep(due)
            if message.event.event_type is EventType.TaskScheduled:
                handled = await self._run_activity(message, copy, claim_after)
            else:
                if message.event.event_type is not EventType.TimerFired:
                    await copy.get()  # applied once its copy is queued (module docstring)
                await self._hold_while(copy, self._submit(message))
                handled = True
        except Exception as exc:
            log.warning(
                "%s for '%s' was not handled in-process (%s); the queued copy takes over",
                message.event.event_type.name, message.instance_id, exc,
            )
            await self._release(copy)
            return
        except asyncio.CancelledError:
            # The process is stopping (the host cancels what is left when it exits): hand
            # the copy to the other hosts now, not when its lease (minutes) runs out.
            await self._release(copy)
            raise
        finally:
            if message.event.event_type is EventType.TaskScheduled:
                self._activities -= 1
        if handled:
            try:
                await self._delete(copy)
            except asyncio.CancelledError:
                # Stopping while the handled copy is being deleted: finish the delete (close
                # waits for it), or the copy would stay hidden for its whole lease.
                await self._delete(copy)
                raise

    async def _run_activity(
        self, message: TaskMessage, copy: _Copy, claim_after: float | None
    ) -> bool:
        async with self._activity_limit:
            if claim_after is not None and time.monotonic() >= claim_after:
                claimed = await self._hub.queues.renew(await copy.get(), self._lease)
                if claimed is None:
                    return False  # another host took it from the queue
                copy.handle = claimed
            done = await self._hold_while(
                copy, run_activity(self._registry, message, self._clock, self._http,
                                   self._hub.hub_name)
            )
        crash_point("in_activity")
        await self._hold_while(copy, self._submit(done))
        return True

    async def _hold_while(self, copy: _Copy, work: Awaitable[Any]) -> Any:
        """Await `work`, renewing the copy's invisibility every half lease meanwhile."""
        done = asyncio.Event()
        keeper = asyncio.create_task(self._keep_hidden(copy, done))
        try:
            return await work
        finally:
            done.set()
            await asyncio.gather(keeper, return_exceptions=True)

    async def _keep_hidden(self, copy: _Copy, done: asyncio.Event) -> None:
        """Renew until `done`, which stops it between renewals, never during one: a renewal
        that reached the queue changed the pop receipt, and cancelled before its answer came
        it would leave the delete a stale one (the copy would come back as a duplicate)."""
        half = self._lease.total_seconds() / 2
        while True:
            try:
                await asyncio.wait_for(done.wait(), half)
                return
            except TimeoutError:
                pass
            renewed = await self._hub.queues.renew(await copy.get(), self._lease)
            if renewed is None:
                return
            copy.handle = renewed

    async def _delete(self, copy: _Copy) -> None:
        try:
            await self._hub.queues.delete(await copy.get())
        except Exception as exc:  # a left-over copy is recognised as a duplicate later
            log.warning("Could not delete a handled message: %s", exc)

    async def _release(self, copy: _Copy) -> None:
        try:
            await self._hub.queues.renew(await copy.get(), timedelta(0))
        except Exception as exc:  # it becomes visible when it stops being hidden anyway
            log.warning("Could not release a message to the queue: %s", exc)

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


class _Copy:
    """The queued copy of a message handled here, whose send may still be in flight."""

    def __init__(self) -> None:
        # Set right after the handling is created, before either runs.
        self.sending: asyncio.Task[ReceivedMessage]
        self.handle: ReceivedMessage | None = None

    async def get(self) -> ReceivedMessage:
        """The copy's handle (after a renewal, the renewed one), once it is queued."""
        if self.handle is None:
            self.handle = await asyncio.shield(self.sending)
        return self.handle
