"""What a chaos run found: the report and its checks of histories and poison queues, shared
with the outage, shutdown and fuzz tests that check the same promises."""

from __future__ import annotations

import base64
import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from azure.core.exceptions import ResourceNotFoundError

from durable.core.entities import is_entity_id
from durable.core.entity_state import SchedulerState
from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.runtime.summary import summarize
from durable.storage.taskhub import TaskHub

# An invocation may fail on these and be retried (a connection reset under load); any other
# failure is a bug.
TRANSIENT_FAILURES = {"StorageUnavailableError"}


@dataclass
class ChaosReport:
    instances: int = 0
    completed: int = 0
    kills: int = 0
    hosts_started: int = 0
    seconds: float = 0.0
    activity_executions: int = 0
    expected_executions: int = 0
    duplicate_executions: int = 0
    wrong: list[str] = field(default_factory=list)
    history_problems: list[str] = field(default_factory=list)
    queue_counts: dict[str, int] = field(default_factory=dict)
    poison_counts: dict[str, int] = field(default_factory=dict)
    # Poisoned messages that no other copy of theirs made up for (see `unapplied_poison`).
    poison_unapplied: list[str] = field(default_factory=list)
    host_problems: list[str] = field(default_factory=list)
    # Invocations that failed (and were retried), by exception type; messages sent again.
    failed_invocations: Counter[str] = field(default_factory=Counter)
    requeued: int = 0
    # Client signals to one shared counter entity, and what it ended at.
    signals_sent: int = 0
    shared_counter: int | None = None
    # For each instance that did not complete: its history, event by event, to tell what it
    # waits for.
    unfinished_histories: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.completed == self.instances
            and not self.wrong
            and not self.history_problems
            and not any(self.queue_counts.values())
            and not self.poison_unapplied
            and not self.host_problems
            and set(self.failed_invocations) <= TRANSIENT_FAILURES
            and self.shared_counter == self.signals_sent
        )

    def lines(self) -> list[str]:
        return [
            f"instances completed        {self.completed}/{self.instances}",
            f"hosts killed (SIGKILL)     {self.kills} ({self.hosts_started} started)",
            f"run time                   {self.seconds:.1f} s",
            f"activity executions        {self.activity_executions} "
            f"(expected {self.expected_executions})",
            f"duplicate executions       {self.duplicate_executions}",
            f"wrong outputs              {len(self.wrong)} {self.wrong[:3]}",
            f"history problems           {len(self.history_problems)} "
            f"{self.history_problems[:3]}",
            f"messages left in queues    {sum(self.queue_counts.values())}",
            f"poison messages            {sum(self.poison_counts.values())} "
            f"({len(self.poison_unapplied)} not applied through another copy "
            f"{self.poison_unapplied[:3]})",
            f"host problems              {self.host_problems[:3]}",
            f"failed invocations         {sum(self.failed_invocations.values())} "
            f"{dict(self.failed_invocations)}",
            f"messages sent again        {self.requeued}",
            f"shared counter             {self.shared_counter} "
            f"(client signals sent {self.signals_sent})",
            *self.unfinished_histories[:5],
        ]


def history_problems(instance_id: str, events: Sequence[HistoryEvent]) -> list[str]:
    """Anything in one execution's history that was applied twice."""
    problems: list[str] = []
    ids = Counter(e.message_id for e in events if e.message_id)
    problems += [f"{instance_id}: message {m} applied {n} times" for m, n in ids.items() if n > 1]
    completions = (
        EventType.TaskCompleted,
        EventType.TaskFailed,
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
    )
    done = Counter(e.task_scheduled_id for e in events if e.event_type in completions)
    done += Counter(e.timer_id for e in events if e.event_type is EventType.TimerFired)
    problems += [f"{instance_id}: task {t} completed {n} times" for t, n in done.items() if n > 1]
    actions = (
        EventType.TaskScheduled,
        EventType.TimerCreated,
        EventType.SubOrchestrationInstanceCreated,
    )
    scheduled = Counter(e.event_id for e in events if e.event_type in actions)
    problems += [f"{instance_id}: action {a} recorded {n} times"
                 for a, n in scheduled.items() if n > 1]
    for kind in (EventType.ExecutionStarted, EventType.ExecutionCompleted):
        n = sum(1 for e in events if e.event_type is kind)
        if n > 1:
            problems.append(f"{instance_id}: {kind.name} {n} times")
    return problems


def describe_history(instance_id: str, events: Sequence[HistoryEvent]) -> str:
    """One line per event of an unfinished instance: what it did and what it waits for."""
    lines = [f"history of {instance_id}:"]
    for e in events:
        ids = [f"{name}={value}" for name, value in (
            ("id", e.event_id), ("task", e.task_scheduled_id), ("timer", e.timer_id),
            ("fire_at", e.fire_at), ("msg", e.message_id)) if value not in (None, -1)]
        lines.append(f"  {e.timestamp:%H:%M:%S.%f} {e.event_type.name} {' '.join(ids)}")
    return "\n".join(lines)


async def poison_counts(hub: TaskHub) -> dict[str, int]:
    """Messages in the poison queues of the hub's control and work-item queues."""
    queues = [*hub.queues.control_queue_names, hub.queues.work_item_queue_name]
    counts: dict[str, int] = {}
    for name in queues:
        client = hub.queues.client(f"{name}-poison")
        try:
            props = await client.get_queue_properties()
        except ResourceNotFoundError:
            continue
        counts[client.queue_name] = int(props.approximate_message_count or 0)
    return counts


async def unapplied_poison(hub: TaskHub) -> list[str]:
    """The poisoned messages whose effect is nowhere in their instance's history: lost ones.

    A message comes back each time a host that holds it dies, and from its second dequeue on
    it is sent again as a fresh copy. When hosts die every few seconds on a starved machine,
    the holders of one copy can each die before sending it again, until the queue trigger
    poisons it; if another copy of it was applied meanwhile, nothing was lost. Each poisoned
    message is looked up: a control message by its id in the history (or the entity's
    de-duplication state), or as meant for an execution that is no longer current; a work
    item by its result's id."""
    lost: list[str] = []
    for name in [*hub.queues.control_queue_names, hub.queues.work_item_queue_name]:
        client = hub.queues.client(f"{name}-poison")
        try:
            async for stored in client.receive_messages(messages_per_page=32,
                                                        visibility_timeout=600):
                try:
                    body = base64.b64decode(stored.content, validate=True)
                    message = await hub.queues.decode(body)
                except ValueError as exc:  # not base64, not JSON, not a task message
                    lost.append(f"{name}: undecodable poison message {stored.id} ({exc})")
                    continue
                if not await _applied_elsewhere(hub, message):
                    lost.append(f"{message.instance_id}: {message.event.event_type.name} "
                                f"{message.message_id}")
        except ResourceNotFoundError:
            continue
    return lost


async def _applied_elsewhere(hub: TaskHub, message: TaskMessage) -> bool:
    events = (await hub.history.load_history(message.instance_id)).events
    summary = summarize(events)
    if is_entity_id(message.instance_id):
        input_ = summary.started.input if summary.started is not None else None
        return SchedulerState.from_json(input_).has_applied(message.message_id)
    if message.event.event_type is EventType.TaskScheduled:
        return f"{message.message_id}:done" in summary.message_ids
    current = summary.started.execution_id if summary.started is not None else None
    stale = message.execution_id is not None and message.execution_id != current
    return stale or message.message_id in summary.message_ids


async def delete_poison_queues(hub: TaskHub) -> None:
    for name in [*hub.queues.control_queue_names, hub.queues.work_item_queue_name]:
        with contextlib.suppress(ResourceNotFoundError):
            await hub.queues.client(f"{name}-poison").delete_queue()
