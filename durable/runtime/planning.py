"""Planning an orchestration episode: what to do with each message that arrived.

Pure: the history summary, the messages and (when a rule needs it) the instance's Instances
row go in, a `Plan` comes out. Most plans need no row; when one does, `plan_orchestration`
returns a plan with `needs_row` set, and the pipeline reads the row and plans again.

The rules, in Durable Task's terms:
- a message whose id is in history was applied before: a duplicate (its episode's outbox is
  re-sent, in case the crash that redelivered it came before the sends);
- a start of a new instance starts it; a second start in one batch is ignored; a start over
  a running instance is ignored; a start over a finished one starts it again unless the
  Instances row names another execution (then it is a stale copy of an older start);
- a message for an instance that has not started waits for it (deferred) while the row says
  Pending, and is dropped otherwise;
- messages for an older execution, or for a finished instance, are dropped;
- everything else is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.core.status import OrchestrationRuntimeStatus
from durable.runtime.summary import HistorySummary
from durable.storage.interface import InstanceRecord


class _Unread:
    """The Instances row has not been read (most plans do not need it)."""

    def __repr__(self) -> str:
        return "UNREAD"


UNREAD = _Unread()
RowLookup = InstanceRecord | None | _Unread


@dataclass
class Plan:
    """What an episode does with its messages. `notes` are (level, text) log lines the
    pipeline writes, so that planning itself stays free of effects."""

    apply: list[TaskMessage] = field(default_factory=list)
    start: TaskMessage | None = None
    defer: list[TaskMessage] = field(default_factory=list)
    # How long deferred messages stay hidden (None: the sender's default).
    defer_delay: timedelta | None = None
    duplicates: list[TaskMessage] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    needs_row: bool = False
    # The last committed outbox may not have been sent (entities): send it again.
    resend_last: bool = False

    @property
    def runs(self) -> bool:
        """Whether the episode has anything to execute and commit."""
        return self.start is not None or bool(self.apply)

    def applies_all(self, messages: Sequence[TaskMessage]) -> bool:
        """Whether every message is applied (so a commit will prove assumed state right)."""
        started = 1 if self.start is not None else 0
        return started + len(self.apply) == len(messages)


def has_start(messages: Sequence[TaskMessage]) -> bool:
    """Whether a batch holds a start (which almost always means a new instance)."""
    return any(m.event.event_type is EventType.ExecutionStarted for m in messages)


def plan_orchestration(
    instance_id: str,
    summary: HistorySummary,
    messages: Sequence[TaskMessage],
    row: RowLookup = UNREAD,
) -> Plan:
    """The plan for `messages` (see the module docstring for the rules)."""
    plan = Plan()
    current = summary.started.execution_id if summary.started else None
    # Two copies of one message can arrive in one batch (a copy sent again while the
    # original's delete failed); the second is applied by neither history nor this plan.
    batch_ids: set[str] = set()
    for msg in sorted(messages, key=_start_first):
        kind = msg.event.event_type
        if msg.message_id in summary.message_ids:
            plan.duplicates.append(msg)
        elif msg.message_id and msg.message_id in batch_ids:
            plan.notes.append(("info", f"Dropping a second copy of message {msg.message_id} "
                                       f"for '{instance_id}' in one batch"))
        elif kind is EventType.ExecutionStarted:
            _plan_start(instance_id, summary, msg, plan, row)
        elif plan.start is not None:
            if msg.execution_id in (None, plan.start.event.execution_id):
                plan.apply.append(msg)
        elif summary.started is None:
            if isinstance(row, _Unread):
                plan.needs_row = True
            elif row is not None and row.runtime_status is OrchestrationRuntimeStatus.Pending:
                plan.defer.append(msg)
            else:
                plan.notes.append(
                    ("warning", f"Dropping {kind.name} for unknown instance '{instance_id}'")
                )
        elif msg.execution_id not in (None, current):
            plan.notes.append(("info", f"Dropping {kind.name} for an old execution of "
                                       f"'{instance_id}'"))
        elif summary.is_terminal:
            plan.notes.append(("info", f"Dropping {kind.name}: instance '{instance_id}' has "
                                       "finished"))
        else:
            plan.apply.append(msg)
        if msg.message_id:
            batch_ids.add(msg.message_id)
        if plan.needs_row:
            return Plan(needs_row=True)
    return plan


def _plan_start(
    instance_id: str, summary: HistorySummary, msg: TaskMessage, plan: Plan, row: RowLookup
) -> None:
    exec_id = msg.event.execution_id
    if summary.started is not None and summary.started.execution_id == exec_id:
        plan.duplicates.append(msg)
        return
    if plan.start is not None:
        plan.notes.append(("warning", f"Two starts of '{instance_id}' in one batch; keeping "
                                      "the first"))
        return
    if summary.started is not None and not summary.is_terminal:
        plan.notes.append(("warning", f"Ignoring a start of '{instance_id}' while it runs "
                                      f"(execution {summary.started.execution_id})"))
        return
    if summary.started is None:
        plan.start = msg  # a first start: nothing older it could be a stale copy of
        return
    if isinstance(row, _Unread):
        plan.needs_row = True
        return
    if row is not None and row.execution_id not in (None, "", exec_id):
        plan.notes.append(("info", f"Ignoring a stale start of '{instance_id}' (execution "
                                   f"{exec_id})"))
        return
    plan.start = msg


def _start_first(msg: TaskMessage) -> int:
    return 0 if msg.event.event_type is EventType.ExecutionStarted else 1
