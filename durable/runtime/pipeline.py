"""The episode pipeline every instance goes through: load, plan, decide, commit, send, ack.

Order of effects (DESIGN.md invariants):
1. load history and the sentinel ETag (or reuse a live session the ETag proves current);
2. plan and decide in pure calls (the kind runs user code on the new messages);
3. commit new history rows + sentinel under the ETag (a conflict reloads and retries);
4. update the Instances row, if what it shows changed (an entity's row after 5; an
   orchestration's finished row alongside 5, after its earlier episodes' messages);
5. send the outbound messages derived from what was just committed;
6. return, after which the host deletes the consumed messages.
A crash after 3 leaves the consumed messages visible again; their ids are in what was
committed, so the next episode recognises them, re-sends the outbox of the episode that
consumed them (same message ids; receivers de-duplicate) and repairs the Instances row.
Since one such message is enough, an orchestration episode holds back only one that the
commit recorded (`InstanceKind.held`) until 4 and 5 are done, and lets the others be
deleted once 3 is (`Tail`).

Steps 4 and 5 are the episode's tail: `run` returns once the commit is done (the instance may
then have its next episode) and hands back the tail, which the held messages' invocations
wait for. Tails of one instance write its row in the order of their commits.

What differs between kinds of instance (orchestrations, entities) is behind `InstanceKind`;
this module is the part they share.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence

from durable.core.messages import TaskMessage
from durable.errors import HistoryConflictError
from durable.runtime import stats
from durable.runtime.clock import Clock
from durable.runtime.coalesce import Tail
from durable.runtime.faults import crash_point
from durable.runtime.instance_rows import InstanceRows, RowRead
from durable.runtime.kinds import Decision, InstanceKind, Loaded
from durable.runtime.outbox import Outbound
from durable.runtime.planning import UNREAD, Plan
from durable.runtime.sender import Sender
from durable.runtime.sessions import LiveSession, SessionCache
from durable.runtime.summary import summarize
from durable.storage.interface import TaskHubStorage

log = logging.getLogger("durable.orchestration")

KindOf = Callable[[str], InstanceKind]


class EpisodePipeline:
    """Runs episodes for any kind of instance; `kind_of(instance_id)` says which kind."""

    def __init__(
        self,
        hub: TaskHubStorage,
        kind_of: KindOf,
        sender: Sender,
        rows: InstanceRows,
        clock: Clock,
        cache: SessionCache,
        max_concurrency: int,
    ) -> None:
        self._hub = hub
        self._kind_of = kind_of
        self._sender = sender
        self._rows = rows
        self._clock = clock
        self._cache = cache
        self._limit = asyncio.Semaphore(max_concurrency)
        # Per instance, while pending: its latest row write, and a future done when all its
        # episodes' rows and messages other than work items so far are.
        self._rows_written: dict[str, asyncio.Future[None]] = {}
        self._messages_out: dict[str, asyncio.Future[None]] = {}

    async def run(self, instance_id: str, messages: list[TaskMessage]) -> Tail | None:
        """Apply `messages` to the instance, retrying on ETag conflicts until it commits;
        the episode's tail (sends, row) to await before the messages may be deleted."""
        async with self._limit:
            attempt = 0
            while True:
                try:
                    return await self._episode(instance_id, messages, optimistic=attempt == 0)
                except HistoryConflictError:
                    self._cache.drop(instance_id)
                    attempt += 1
                    stats.count(stats.CONFLICTS)
                    log.info("ETag conflict on '%s'; reloading (attempt %d)", instance_id, attempt)
                    await asyncio.sleep(min(0.02 * 2**attempt, 2.0) * random.uniform(0.5, 1.5))
                except BaseException:
                    self._cache.drop(instance_id)
                    raise

    async def _episode(
        self, instance_id: str, messages: list[TaskMessage], optimistic: bool
    ) -> Tail | None:
        began = time.time_ns()
        kind = self._kind_of(instance_id)
        stats.count(stats.EPISODES)
        loaded = self._cached(instance_id)
        if loaded is not None and kind.replaces_history:
            loaded = await _after_sends(loaded)
        cached = loaded.session if loaded is not None else None
        if loaded is not None:
            stats.count(stats.SESSION_HITS)
        elif optimistic and kind.assumes_new(messages):
            # A start is almost always of a new instance: assume there is no history. The
            # commit then creates the sentinel, which fails if history exists after all, and
            # the retry loads it. One read saved per new instance.
            loaded = Loaded([], None, summarize([]), verified=False)
            stats.count(stats.ASSUMED_NEW)
        if loaded is None:
            loaded = await self._load(instance_id)
        plan = await self._plan(kind, instance_id, loaded, messages)
        if not loaded.verified and not plan.applies_all(messages):
            # Only a commit proves assumed state (a cached session, or "no history yet")
            # right; a decision to drop, defer or re-send is taken on freshly read history.
            loaded = await self._load(instance_id)
            plan = await self._plan(kind, instance_id, loaded, messages)
        if plan.duplicates:
            await self._recover(kind, instance_id, loaded, plan.duplicates)
        if plan.defer:
            await self._sender.defer(plan.defer, plan.defer_delay)
        if plan.runs:
            decision = await kind.decide(instance_id, loaded, plan, self._clock.now())
            done = await self._commit(instance_id, loaded, decision, began)
            return Tail(done, kind.held(plan, decision))
        if cached is not None and cached.etag == loaded.etag:
            # Nothing was committed (every message a duplicate, or deferred), and history is
            # as the session knew it: it stays live. Losing it would make the next episode
            # read the whole history again, which for a large fan-in is most of its cost.
            self._cache.put(instance_id, cached)
        return None

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
        stats.count(stats.HISTORY_LOADS)
        got = await self._hub.history.load_history(instance_id)
        return Loaded(list(got.events), got.etag, summarize(got.events))

    async def _plan(
        self, kind: InstanceKind, instance_id: str, loaded: Loaded, messages: Sequence[TaskMessage]
    ) -> Plan:
        plan = kind.plan(instance_id, loaded, messages, UNREAD)
        if plan.needs_row:
            row = await self._hub.instances.get(instance_id, include_input=False)
            plan = kind.plan(instance_id, loaded, messages, row)
        for level, text in plan.notes:
            log.log(logging.WARNING if level == "warning" else logging.INFO, "%s", text)
        return plan

    async def _recover(
        self,
        kind: InstanceKind,
        instance_id: str,
        loaded: Loaded,
        duplicates: list[TaskMessage],
    ) -> None:
        """Re-send what the episode that consumed these messages asked for."""
        recovery = kind.recover(instance_id, loaded, duplicates, self._clock.now())
        if recovery.outbound or recovery.repair is not None:
            log.info("Re-sending %d outbound message(s) of '%s' after redelivery",
                     len(recovery.outbound), instance_id)
        await self._sender.send_all(recovery.outbound)
        if recovery.repair is not None:
            await self._rows.repair(instance_id, recovery.repair)

    async def _commit(
        self, instance_id: str, loaded: Loaded, decision: Decision, began: int
    ) -> Awaitable[None]:
        live = loaded.session
        write_row = live is None or live.written != decision.visible
        current = self._rows.prepare(instance_id, decision.row) if write_row else None
        try:
            etag = await self._hub.history.commit(
                instance_id,
                decision.execution_id,
                decision.new_events,
                expected_etag=loaded.etag,
                start_seq=decision.start_seq,
                replace_execution=decision.replaced,
            )
        except BaseException:
            if current is not None:
                current.cancel()
            raise
        if decision.trace is not None:
            # Committed: this episode's work happened exactly once, whatever follows.
            try:
                decision.trace(began, time.time_ns())
            except Exception:  # tracing must never fail an episode that committed
                log.warning("Could not emit the spans of an episode of '%s'", instance_id,
                            exc_info=True)
        crash_point("after_commit")
        session: LiveSession | None = None
        if decision.live is not None:
            full = decision.full_history
            session = LiveSession(decision.live, etag, full, summarize(full), decision.visible)
            self._cache.put(instance_id, session)
        else:
            self._cache.drop(instance_id)
        before = self._rows_written.get(instance_id)
        earlier = self._messages_out.get(instance_id)
        if decision.final and earlier is not None:
            before = earlier
        # A changed row that does not show the instance finished is written before the
        # sends, as Durable Task does: what they cause may finish the instance on another
        # host, whose final row this one must not land after.
        row_first = write_row and not decision.final and not decision.row_after_sends
        row: asyncio.Future[None] | None = None
        if row_first:
            row = asyncio.ensure_future(
                self._row(instance_id, decision, current, write_row, before, None))
        # Work items apart: a finished instance's row waits for its earlier episodes'
        # messages to other instances, but not for work items no one awaits any more.
        messages = asyncio.ensure_future(self._send(
            [o for o in decision.outbound if not o.to_work_items], row))
        work_items = asyncio.ensure_future(self._send(
            [o for o in decision.outbound if o.to_work_items], row))
        sends = asyncio.ensure_future(_all_succeed(messages, work_items))
        if session is not None:
            session.sends = sends
        if row is None:
            row = asyncio.ensure_future(
                self._row(instance_id, decision, current, write_row, before, sends))
        self._rows_written[instance_id] = row
        row.add_done_callback(lambda t: _forget(self._rows_written, instance_id, t))
        out = asyncio.ensure_future(_all_done(earlier, messages, row))
        self._messages_out[instance_id] = out
        out.add_done_callback(lambda t: _forget(self._messages_out, instance_id, t))
        return asyncio.ensure_future(self._tail(sends, row, decision.row_after_sends))

    async def _send(self, outbound: list[Outbound], gate: asyncio.Future[None] | None) -> None:
        """Send `outbound`, once `gate` (the episode's row write) has succeeded if given."""
        if gate is not None:
            await gate
        await self._sender.send_all(outbound)

    async def _row(
        self,
        instance_id: str,
        decision: Decision,
        current: RowRead | None,
        write_row: bool,
        before: asyncio.Future[None] | None,
        sends: asyncio.Future[None] | None,
    ) -> None:
        """Write the row after the row writes of the instance's earlier tails, so that it
        never goes back to an older state; a row that shows the instance finished also
        after their sends other than work items. Otherwise an episode's tail does not
        wait for an earlier one's sends (up to a window of work items each). When the
        decision asks for it, the row also waits for this episode's own sends."""
        if decision.row_after_sends and sends is not None:
            await sends
            crash_point("after_send")
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)
        if write_row:
            await self._rows.write(instance_id, decision.row, current)

    @staticmethod
    async def _tail(
        sends: asyncio.Future[None], row: asyncio.Future[None], row_after_sends: bool
    ) -> None:
        """The episode's sends and row: both must be done before its messages are deleted.
        Independent of each other unless the row must follow the sends: a crash between
        them is repaired like any other crash after the commit (redelivery re-sends the
        outbox and fixes the row)."""
        await _all_succeed(sends, row)
        if not row_after_sends:
            crash_point("after_send")


async def _after_sends(loaded: Loaded) -> Loaded | None:
    """The live session once the sends of the episode that made it are done; None (read
    history) if they failed: the commit would replace the only history recording them."""
    sends = loaded.session.sends if loaded.session is not None else None
    if sends is None:
        return loaded
    await asyncio.wait([sends])
    if sends.cancelled() or sends.exception() is not None:
        return None
    return loaded


async def _all_succeed(*futures: asyncio.Future[None]) -> None:
    """Done when every one of `futures` is; raises the first error among them."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _all_done(*futures: asyncio.Future[None] | None) -> None:
    """Done when every one of `futures` is, whatever their outcomes."""
    await asyncio.gather(*(f for f in futures if f is not None), return_exceptions=True)


def _forget(latest: dict[str, asyncio.Future[None]], instance_id: str,
            done: asyncio.Future[None]) -> None:
    if latest.get(instance_id) is done:
        del latest[instance_id]
