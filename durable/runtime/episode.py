"""The orchestration episode: load, replay, commit, send, acknowledge.

Order of effects (DESIGN.md invariants):
1. load history and the sentinel ETag (or reuse a live session the ETag proves current);
2. replay with the new messages, in one pure call;
3. commit new history rows + sentinel under the ETag (a conflict reloads and retries);
4. send the outbound messages derived from what was just committed;
5. update the Instances row;
6. return, after which the host deletes the consumed messages.
A crash after 3 leaves the consumed messages visible again; their ids are in history, so the
next episode recognises them, re-sends the outbox of the episode that consumed them (same
message ids; receivers de-duplicate) and repairs the Instances row.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from durable.core.history import EventType, HistoryEvent, OrchestrationStatus
from durable.core.messages import TaskMessage
from durable.errors import HistoryConflictError
from durable.registry import DurableRegistry
from durable.runtime import sessions
from durable.runtime.clock import Clock
from durable.runtime.faults import crash_point
from durable.runtime.outbox import (
    Outbound,
    derive_outbound,
    episode_containing,
    still_awaited,
)
from durable.runtime.sender import Sender
from durable.runtime.state import HistorySummary, summarize

log = logging.getLogger("durable.orchestration")

# An orchestrator that continues-as-new without ever waiting would spin forever in one
# episode; past this many generations in one episode the instance fails with a clear error.
MAX_GENERATIONS_PER_EPISODE = 100


@dataclass
class Loaded:
    history: list[HistoryEvent]
    etag: str | None
    summary: HistorySummary
    session: sessions.LiveSession | None = None
    # False when the state is assumed (a cached session, or no history for a start) rather
    # than read just now; the ETag-conditional commit then proves or refutes it.
    verified: bool = True


@dataclass
class Plan:
    apply: list[TaskMessage] = field(default_factory=list)
    start: TaskMessage | None = None
    defer: list[TaskMessage] = field(default_factory=list)
    duplicates: list[TaskMessage] = field(default_factory=list)


class OrchestrationEpisodes:
    def __init__(
        self,
        hub: object,
        registry: DurableRegistry,
        sender: Sender,
        clock: Clock,
        cache: sessions.SessionCache,
        max_concurrency: int,
    ) -> None:
        self._hub = hub
        self._registry = registry
        self._sender = sender
        self._clock = clock
        self._cache = cache
        self._limit = asyncio.Semaphore(max_concurrency)

    async def run(self, instance_id: str, messages: list[TaskMessage]) -> None:
        """Apply `messages` to the instance, retrying on ETag conflicts until it commits."""
        async with self._limit:
            attempt = 0
            while True:
                try:
                    await self._episode(instance_id, messages, optimistic=attempt == 0)
                    return
                except HistoryConflictError:
                    self._cache.drop(instance_id)
                    attempt += 1
                    log.info("ETag conflict on '%s'; reloading (attempt %d)", instance_id, attempt)
                    await asyncio.sleep(min(0.02 * 2**attempt, 2.0) * random.uniform(0.5, 1.5))
                except BaseException:
                    self._cache.drop(instance_id)
                    raise

    async def _episode(
        self, instance_id: str, messages: list[TaskMessage], optimistic: bool
    ) -> None:
        loaded = self._cached(instance_id)
        if loaded is None and optimistic and _has_start(messages):
            # A start is almost always of a new instance: assume there is no history. The
            # commit then creates the sentinel, which fails if history exists after all, and
            # the retry loads it. One read saved per new instance.
            loaded = Loaded([], None, summarize([]), verified=False)
        if loaded is None:
            loaded = await self._load(instance_id)
        plan = await self._plan(instance_id, loaded, messages)
        if not loaded.verified and not _applies_all(plan, messages):
            # Only a commit proves assumed state (a cached session, or "no history yet")
            # right; a decision to drop, defer or re-send is taken on freshly read history.
            loaded = await self._load(instance_id)
            plan = await self._plan(instance_id, loaded, messages)
        if plan.duplicates:
            await self._recover(instance_id, loaded, plan.duplicates)
        if plan.defer:
            await self._sender.defer(plan.defer)
        if plan.start is None and not plan.apply:
            return
        await self._execute(instance_id, loaded, plan)

    def _cached(self, instance_id: str) -> Loaded | None:
        """A live session from an earlier episode of this process, used without a read.

        The commit is conditional on the ETag this process wrote last, so if anyone else wrote
        since, the commit fails with a conflict, the session is thrown away, and the episode
        runs again on freshly loaded history. One storage read per episode saved.
        """
        live = self._cache.get(instance_id)
        if live is None:
            return None
        return Loaded(live.history, live.etag, live.summary, live, verified=False)

    async def _load(self, instance_id: str) -> Loaded:
        got = await self._hub.history.load_history(instance_id)  # type: ignore[attr-defined]
        return Loaded(list(got.events), got.etag, summarize(got.events))

    async def _plan(
        self, instance_id: str, loaded: Loaded, messages: Sequence[TaskMessage]
    ) -> Plan:
        plan = Plan()
        summary = loaded.summary
        current = summary.started.execution_id if summary.started else None
        for msg in sorted(messages, key=_start_first):
            kind = msg.event.event_type
            if msg.message_id in summary.message_ids:
                plan.duplicates.append(msg)
            elif kind is EventType.ExecutionStarted:
                await self._plan_start(instance_id, loaded, msg, plan)
            elif plan.start is not None:
                if msg.execution_id in (None, plan.start.event.execution_id):
                    plan.apply.append(msg)
            elif summary.started is None:
                if await self._is_pending(instance_id):
                    plan.defer.append(msg)
                else:
                    log.warning("Dropping %s for unknown instance '%s'", kind.name, instance_id)
            elif msg.execution_id not in (None, current):
                log.info("Dropping %s for an old execution of '%s'", kind.name, instance_id)
            elif summary.is_terminal:
                log.info("Dropping %s: instance '%s' has finished", kind.name, instance_id)
            else:
                plan.apply.append(msg)
        return plan

    async def _plan_start(
        self, instance_id: str, loaded: Loaded, msg: TaskMessage, plan: Plan
    ) -> None:
        summary = loaded.summary
        exec_id = msg.event.execution_id
        if summary.started is not None and summary.started.execution_id == exec_id:
            plan.duplicates.append(msg)
            return
        if plan.start is not None:
            log.warning("Two starts of '%s' in one batch; keeping the first", instance_id)
            return
        if summary.started is not None and not summary.is_terminal:
            log.warning("Ignoring a start of '%s' while it runs (execution %s)", instance_id,
                        summary.started.execution_id)
            return
        if summary.started is None:
            plan.start = msg  # a first start: nothing older it could be a stale copy of
            return
        record = await self._hub.instances.get(instance_id)  # type: ignore[attr-defined]
        if record is not None and record.execution_id not in (None, "", exec_id):
            log.info("Ignoring a stale start of '%s' (execution %s)", instance_id, exec_id)
            return
        plan.start = msg

    async def _is_pending(self, instance_id: str) -> bool:
        record = await self._hub.instances.get(instance_id)  # type: ignore[attr-defined]
        return record is not None and record.runtime_status is OrchestrationStatus.Pending

    async def _recover(
        self, instance_id: str, loaded: Loaded, duplicates: list[TaskMessage]
    ) -> None:
        """Re-send what the episode that consumed these messages asked for."""
        started = loaded.summary.started
        if started is None or started.execution_id is None:
            return
        events = episode_containing(loaded.history, {m.message_id for m in duplicates})
        if not events:
            return
        now = self._clock.now()
        out = derive_outbound(instance_id, started.execution_id, started, events, now)
        out = still_awaited(out, loaded.history)
        log.info("Re-sending %d outbound message(s) of '%s' after redelivery", len(out),
                 instance_id)
        await self._sender.send_all(out)
        await self._sender.repair_instance(instance_id, loaded.history)

    async def _execute(self, instance_id: str, loaded: Loaded, plan: Plan) -> None:
        from durable.runtime.execute import run_generations

        outcome = run_generations(
            registry=self._registry,
            instance_id=instance_id,
            loaded_history=loaded.history,
            live=loaded.session,
            start=plan.start,
            apply=plan.apply,
            now=self._clock.now(),
            new_execution_id=lambda: uuid.uuid4().hex,
            max_generations=MAX_GENERATIONS_PER_EPISODE,
        )
        history_store = self._hub.history  # type: ignore[attr-defined]
        etag = await history_store.commit(
            instance_id,
            outcome.execution_id,
            outcome.new_events,
            expected_etag=loaded.etag,
            start_seq=outcome.start_seq,
            replace_execution=outcome.replaced,
        )
        crash_point("after_commit")
        started = outcome.started
        out: list[Outbound] = derive_outbound(
            instance_id, outcome.execution_id, started, outcome.new_events, self._clock.now()
        )
        visible = (outcome.status, outcome.custom_status, outcome.execution_id)
        live = loaded.session
        effects = [self._sender.send_all(out)]
        if live is None or live.written != visible:
            # Independent of the sends: a crash between them is repaired like any other
            # crash after the commit (redelivery re-sends the outbox and fixes the row).
            effects.append(self._sender.update_instance(instance_id, outcome))
        await asyncio.gather(*effects)
        crash_point("after_send")
        full = outcome.full_history
        if outcome.status in (OrchestrationStatus.Running, OrchestrationStatus.Suspended):
            summary = summarize(full)
            self._cache.put(
                instance_id, sessions.LiveSession(outcome.session, etag, full, summary, visible)
            )
        else:
            self._cache.drop(instance_id)


def _applies_all(plan: Plan, messages: Sequence[TaskMessage]) -> bool:
    """Whether a plan made on assumed state only applies messages (a commit will prove it)."""
    started = 1 if plan.start is not None else 0
    return started + len(plan.apply) == len(messages)


def _has_start(messages: Sequence[TaskMessage]) -> bool:
    return any(m.event.event_type is EventType.ExecutionStarted for m in messages)


def _start_first(msg: TaskMessage) -> int:
    return 0 if msg.event.event_type is EventType.ExecutionStarted else 1
