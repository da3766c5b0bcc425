"""The small interface between the episode pipeline and one kind of instance.

Every instance goes through the same pipeline (`pipeline.py`): load (or reuse a live
session the ETag proves current), plan, decide, commit under the ETag, send the outbox,
write the Instances row, acknowledge. What differs between an orchestration and an entity is
the planning and the decision; an `InstanceKind` supplies those, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from durable.core.history import HistoryEvent
from durable.core.messages import TaskMessage
from durable.runtime.outbox import Outbound
from durable.runtime.planning import Plan, RowLookup
from durable.runtime.sessions import LiveSession
from durable.runtime.summary import HistorySummary
from durable.storage.interface import InstanceUpdate


@dataclass
class Loaded:
    """An instance's committed state as an episode starts from it."""

    history: list[HistoryEvent]
    etag: str | None
    summary: HistorySummary
    session: LiveSession | None = None
    # False when the state is assumed (a cached session, or no history for a start) rather
    # than read just now; the ETag-conditional commit then proves or refutes it.
    verified: bool = True


@dataclass
class Decision:
    """What an episode decided: the events to commit and what follows from them.

    `outbound` and `row` are pure functions of the committed events, so after a crash they
    can be derived again (see `InstanceKind.recover`). `visible` is what the Instances row
    shows; an episode that changes none of it skips the row write. `live` is the in-memory
    state to keep for the next episode (None: nothing worth keeping)."""

    execution_id: str
    new_events: list[HistoryEvent]
    start_seq: int
    replaced: bool
    full_history: list[HistoryEvent]
    outbound: list[Outbound]
    row: InstanceUpdate
    visible: tuple[Any, ...]
    live: object | None = None
    # Write the row only once the sends are done, so that a row that names this
    # execution proves its outbox was sent (entities rely on it).
    row_after_sends: bool = False
    # The row shows the instance finished: write it only after every earlier episode's
    # row and messages other than work items, so that "finished" is never seen while an
    # earlier episode's messages to other instances are unsent.
    final: bool = False
    # The spans of this episode, emitted once it is committed: `trace(start_ns, end_ns)`
    # (None: tracing is off).
    trace: Callable[[int, int], None] | None = None


@dataclass
class Recovery:
    """What to do again for messages that were applied before (a redelivery)."""

    outbound: list[Outbound] = field(default_factory=list)
    repair: InstanceUpdate | None = None


class InstanceKind(Protocol):
    """Planning and deciding for one kind of instance (orchestration, entity)."""

    # Each episode's history replaces the last one's (entities), so the outbox of an
    # episode whose sends are still going out is in no history once the next commits:
    # the next episode waits for those sends (and reloads if they failed).
    replaces_history: bool

    def held(self, plan: Plan, decision: Decision) -> frozenset[str] | None:
        """The ids of the episode's messages to acknowledge only once its tail is done; the
        others are acknowledged once the commit is durable (None: all wait for the tail).
        One held message whose redelivery re-sends the episode's outbox is enough."""
        ...

    def assumes_new(self, messages: Sequence[TaskMessage]) -> bool:
        """Whether the batch almost surely addresses an instance with no history yet, so
        the pipeline may skip the read and let the commit prove it."""
        ...

    def plan(
        self, instance_id: str, loaded: Loaded, messages: Sequence[TaskMessage], row: RowLookup
    ) -> Plan:
        """What to do with each message (pure; may ask for the Instances row)."""
        ...

    async def decide(
        self, instance_id: str, loaded: Loaded, plan: Plan, now: datetime
    ) -> Decision:
        """Run user code on the planned messages: the events to commit and their effects."""
        ...

    def recover(
        self, instance_id: str, loaded: Loaded, duplicates: Sequence[TaskMessage], now: datetime
    ) -> Recovery:
        """The sends and the row repair that a redelivery of `duplicates` calls for."""
        ...
