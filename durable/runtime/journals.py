"""Where an instance's committed state lives, and how an episode commits it.

The pipeline (`pipeline.py`) is the same for every kind of instance; the journal is the one
storage-facing part that differs:

- an orchestration's journal is its History partition: events appended under the
  sentinel's ETag (`HistoryJournal`);
- an entity's journal is its Instances row: the scheduler state in `Input` (where Durable
  Functions keeps it) and the messages of its batches not yet known to be sent in `Outbox`,
  replaced as one row under the row's ETag (`EntityRowJournal`). A batch is thus one
  single-row write, not an entity-group transaction, and the row that status queries read
  is the committed state itself, never a projection that lags it.

An entity's outbox is confirmed once its messages are sent: the next batch's row leaves
them out, or, if no batch follows within a second, the row's `Outbox` is emptied by a merge
conditional on the batch's ETag, so a host that loads the entity later knows there is
nothing to send again. A host that finds a non-empty `Outbox` (the host before it
died between commit and confirmation) sends those messages again with its next batch,
under the same message ids, which the receivers de-duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from durable.core import events as ev
from durable.core.history import EventType, HistoryEvent
from durable.core.history_json import iso_utc
from durable.errors import HistoryConflictError, InstanceConflictError, TaskHubError
from durable.runtime.kinds import Decision, Loaded
from durable.runtime.summary import summarize
from durable.storage.interface import (
    HistoryStorage,
    InstanceRecord,
    InstanceStorage,
    InstanceUpdate,
)

# A confirmation changed the ETag: (instance, ETag before, ETag after, state as it reads).
Rebase = Callable[[str, str, str, list[HistoryEvent]], None]
Idle = Callable[[], bool]
# How long an entity's outbox stays unconfirmed after its sends: a batch within it makes a
# separate write unneeded (its own row leaves the sent messages out).
CONFIRM_AFTER_S = 1.0

log = logging.getLogger("durable.orchestration")


class Journal(Protocol):
    """Loading and committing one kind of instance's state."""

    # Whether a commit writes the Instances row itself (no separate row write after it).
    writes_row: bool

    async def load(self, instance_id: str) -> Loaded:
        """The committed state, read now, with the ETag the next commit must present."""
        ...

    async def commit(self, instance_id: str, loaded: Loaded, decision: Decision) -> str:
        """Commit what the episode decided if nobody wrote since `loaded`; the new ETag,
        or `HistoryConflictError`."""
        ...

    async def settle(self, instance_id: str) -> None:
        """Called as an episode starts: cancel or wait for this process's own writes that
        the episode's commit would otherwise conflict with."""
        ...

    def sent(
        self, instance_id: str, decision: Decision, etag: str, rebase: Rebase, idle: Idle
    ) -> list[HistoryEvent] | None:
        """The episode's messages (and those it carried) were sent: the committed state
        as this process may now see it (None: unchanged). A confirmation the journal
        needs is written later, through `rebase`, while `idle()` says no episode runs."""
        ...

    def unsent(self, instance_id: str, etag: str) -> None:
        """The episode's sends failed: whoever loads it next sends its messages again."""
        ...

    async def close(self) -> None:
        """Drop confirmations not written yet (a later load sends their messages again)."""
        ...


class HistoryJournal:
    """Orchestrations: history rows appended under the sentinel's ETag."""

    writes_row = False

    def __init__(self, history: HistoryStorage) -> None:
        self._history = history

    async def load(self, instance_id: str) -> Loaded:
        """The current execution's events."""
        got = await self._history.load_history(instance_id)
        return Loaded(list(got.events), got.etag, summarize(got.events))

    async def commit(self, instance_id: str, loaded: Loaded, decision: Decision) -> str:
        """Append the episode's events (or replace the execution)."""
        return await self._history.commit(
            instance_id,
            decision.execution_id,
            decision.new_events,
            expected_etag=loaded.etag,
            start_seq=decision.start_seq,
            replace_execution=decision.replaced,
        )

    async def settle(self, instance_id: str) -> None:
        """Nothing of an orchestration's is written behind its commit under its ETag."""

    def sent(
        self, instance_id: str, decision: Decision, etag: str, rebase: Rebase, idle: Idle
    ) -> list[HistoryEvent] | None:
        """History needs no confirmation: redelivery re-derives an episode's sends."""
        return None

    def unsent(self, instance_id: str, etag: str) -> None:
        """Redelivery of the consumed messages re-derives the sends."""

    async def close(self) -> None:
        """Nothing pending."""


OUTBOX_TYPES = frozenset({EventType.EventSent, EventType.SubOrchestrationInstanceCreated})


class EntityRowJournal:
    """Entities: the Instances row is the committed state (see the module docstring)."""

    writes_row = True

    def __init__(self, instances: InstanceStorage) -> None:
        self._instances = instances
        self._confirming: dict[str, _Confirmation] = {}
        # Instance -> (ETag of the row this process committed last, whether its messages
        # are all sent): read again, its outbox is this process's to send (or sent
        # already, before the confirmation is written), not to send again.
        self._mine: OrderedDict[str, tuple[str, bool]] = OrderedDict()

    async def load(self, instance_id: str) -> Loaded:
        """The row as the state of the last batch: its `ExecutionStarted` (input: the
        scheduler state) and the messages not yet confirmed as sent."""
        record = await self._instances.get(instance_id)
        if record is None or record.execution_id is None:
            return Loaded([], record.etag if record else None, summarize([]))
        history = entity_record_history(record)
        mine = self._mine.get(instance_id)
        sending = mine is not None and mine[0] == record.etag
        if sending and mine is not None and mine[1]:
            history, sending = history[:1], False
        return Loaded(history, record.etag, summarize(history), sending=sending)

    async def commit(self, instance_id: str, loaded: Loaded, decision: Decision) -> str:
        """Create or replace the row, conditional on the ETag it was read with."""
        record = decision.record
        if record is None:
            raise TaskHubError(f"an entity batch of {instance_id!r} has no row to commit")
        try:
            if loaded.etag is None:
                etag = await self._instances.insert(record)
            else:
                etag = await self._instances.replace(record, loaded.etag)
        except InstanceConflictError as exc:
            self._mine.pop(instance_id, None)
            raise HistoryConflictError(
                f"commit of entity {instance_id!r} rejected: its row changed since it was "
                "read; reload and retry"
            ) from exc
        self._remember(instance_id, etag, sent=False)
        return etag

    def _remember(self, instance_id: str, etag: str, *, sent: bool) -> None:
        self._mine.pop(instance_id, None)
        self._mine[instance_id] = (etag, sent)
        if len(self._mine) > _KNOWN_ROWS:
            self._mine.popitem(last=False)

    async def settle(self, instance_id: str) -> None:
        """Wait for a confirmation in flight (it changes the row's ETag)."""
        pending = self._confirming.get(instance_id)
        if pending is not None and pending.writing is not None:
            await asyncio.gather(asyncio.shield(pending.writing), return_exceptions=True)

    def sent(
        self, instance_id: str, decision: Decision, etag: str, rebase: Rebase, idle: Idle
    ) -> list[HistoryEvent] | None:
        """Leave the sent messages out of the state this process works from, and empty the
        row's outbox once `CONFIRM_AFTER_S` passed with no episode of the entity running
        (a batch committed meanwhile makes that unneeded: its row leaves them out)."""
        kept = [e for e in decision.full_history if e.event_type not in OUTBOX_TYPES]
        if self._mine.get(instance_id, ("", False))[0] == etag:
            self._remember(instance_id, etag, sent=True)
        if len(kept) == len(decision.full_history):
            return None
        earlier = self._confirming.pop(instance_id, None)
        if earlier is not None and earlier.writing is None:
            earlier.task.cancel()
        pending = _Confirmation()
        pending.task = asyncio.ensure_future(
            self._confirm_later(instance_id, etag, kept, pending, rebase, idle)
        )
        self._confirming[instance_id] = pending
        return kept

    async def _confirm_later(
        self,
        instance_id: str,
        etag: str,
        kept: list[HistoryEvent],
        pending: _Confirmation,
        rebase: Rebase,
        idle: Idle,
    ) -> None:
        try:
            await asyncio.sleep(CONFIRM_AFTER_S)
            while not idle():  # its commit would conflict with the confirmation
                await asyncio.sleep(CONFIRM_AFTER_S)
            if self._mine.get(instance_id) != (etag, True):
                return  # a newer batch committed: its row says what is still unsent
            pending.writing = asyncio.ensure_future(self._instances.update_from_episode(
                instance_id, InstanceUpdate(outbox=""), etag=etag
            ))
            try:
                new_etag = await asyncio.shield(pending.writing)
            except InstanceConflictError:
                return  # another host wrote the row; what it read decides for it
            except Exception as exc:  # the row keeps the outbox; a later load re-sends it
                log.info("Could not confirm the sent messages of entity %r: %s", instance_id,
                         exc)
                return
            if self._mine.get(instance_id) == (etag, True):
                self._remember(instance_id, new_etag, sent=True)
            rebase(instance_id, etag, new_etag, kept)
        finally:
            if self._confirming.get(instance_id) is pending:
                del self._confirming[instance_id]

    def unsent(self, instance_id: str, etag: str) -> None:
        """Forget that this process is sending the row's outbox."""
        if self._mine.get(instance_id, ("", False))[0] == etag:
            del self._mine[instance_id]

    async def close(self) -> None:
        """Cancel the confirmations not written yet; wait for those in flight."""
        pending = list(self._confirming.values())
        self._confirming.clear()
        for p in pending:
            if p.writing is None:
                p.task.cancel()
        await asyncio.gather(*(p.task for p in pending), return_exceptions=True)


# How many entities' last committed ETags a process remembers.
_KNOWN_ROWS = 10_000


class _Confirmation:
    """A scheduled confirmation; `writing` is its write once on the wire (not cancelled
    then, since its answer decides the row's ETag)."""

    def __init__(self) -> None:
        self.task: asyncio.Future[None]
        self.writing: asyncio.Future[str] | None = None


def entity_record_history(record: InstanceRecord) -> list[HistoryEvent]:
    """An entity's row read as the events its kind works with."""
    started = ev.execution_started(
        record.created_time or record.last_updated_time or datetime.now().astimezone(),
        name=record.name or "",
        instance_id=record.instance_id,
        input=record.input,
        execution_id=record.execution_id,
    )
    return [started, *outbox_from_json(record.outbox)]


def outbox_to_json(events: list[HistoryEvent]) -> str:
    """The `Outbox` column: the batch's messages, as much as sending them again needs."""
    if not events:
        return ""
    return json.dumps([_outgoing_out(e) for e in events], separators=(",", ":"))


def outbox_from_json(text: str | None) -> list[HistoryEvent]:
    """Inverse of `outbox_to_json`; a column this library did not write is an error."""
    if not text:
        return []
    try:
        return [_outgoing_in(item) for item in json.loads(text)]
    except (KeyError, TypeError, ValueError) as exc:
        raise TaskHubError(
            f"the Outbox column of an entity's Instances row cannot be read ({exc}); it was "
            "changed outside this library"
        ) from None


def _outgoing_out(event: HistoryEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": event.event_type.name,
        "id": event.event_id,
        "at": iso_utc(event.timestamp),
        "to": event.instance_id,
        "name": event.name,
        "input": event.input,
    }
    for key, value in (("exec", event.execution_id), ("version", event.version),
                       ("fireAt", iso_utc(event.fire_at) if event.fire_at else None)):
        if value is not None:
            out[key] = value
    return out


def _outgoing_in(item: dict[str, Any]) -> HistoryEvent:
    kind = EventType[item["type"]]
    if kind not in OUTBOX_TYPES:
        raise ValueError(f"{kind.name} is not a message an entity sends")
    fire_at = item.get("fireAt")
    return HistoryEvent(
        kind,
        datetime.fromisoformat(item["at"]),
        event_id=int(item["id"]),
        instance_id=item["to"],
        name=item.get("name"),
        input=item.get("input"),
        execution_id=item.get("exec"),
        version=item.get("version"),
        fire_at=datetime.fromisoformat(fire_at) if fire_at else None,
    )
