"""Rewind: make a Failed instance re-run the work that failed, keeping what succeeded.

Durable Functions' Azure Storage algorithm, on our history store: in the current execution
the failure records (TaskFailed with its TaskScheduled, SubOrchestrationInstanceFailed and
ExecutionCompleted(Failed)) are rewritten as GenericEvent rows, which replay ignores. On the
next replay the orchestrator finds no record of the failed activity and schedules it again;
everything that completed replays from history as before. A failed sub-orchestration is
rewound the same way, and its parent keeps waiting on it (the SubOrchestrationInstanceCreated
row stays), so the child's completion reaches the parent as usual.

The rewrite is one history commit under the sentinel's ETag (`replace_execution` with the
same execution id), so it races safely with anything else writing that instance. Then each
rewound instance's row goes back to Pending and a GenericEvent message wakes it up. A crash
in between is repaired by rewinding again: an instance whose history is no longer Failed is
only re-marked and re-woken.

One limit, shared with Durable Functions: a failure notice redelivered after the rewind (the
host crashed between committing it and deleting its message) is indistinguishable from the
re-run's own completion, and would fail the task again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from durable.core.history import EventType, HistoryEvent, OrchestrationRuntimeStatus
from durable.core.messages import TaskMessage
from durable.errors import HistoryConflictError
from durable.runtime.clock import Clock
from durable.runtime.summary import summarize
from durable.storage.interface import TaskHubStorage

log = logging.getLogger("durable.client")

MAX_COMMIT_ATTEMPTS = 5
_FAILED_COMPLETIONS = {
    EventType.TaskFailed: EventType.TaskScheduled,
    EventType.SubOrchestrationInstanceFailed: EventType.SubOrchestrationInstanceCreated,
}


@dataclass
class _Rewrite:
    events: list[HistoryEvent]
    children: list[str] = field(default_factory=list)


def _generic(event: HistoryEvent) -> HistoryEvent:
    """The neutralised row. It forgets the id of the message that brought it: message ids
    derive from (execution, sequence number), so the re-run's completion arrives with the
    same id as the failure did, and must not be taken for a redelivery of it."""
    note = f"Rewound: {event.event_type.name}"
    return event.replace(event_type=EventType.GenericEvent, data=note, message_id=None)


def rewrite_failures(events: Sequence[HistoryEvent]) -> _Rewrite:
    """The execution's history with its failure records neutralised, and the ids of the
    failed sub-orchestrations to rewind as well."""
    failed_ids = {
        (_FAILED_COMPLETIONS[e.event_type], e.task_scheduled_id)
        for e in events
        if e.event_type in _FAILED_COMPLETIONS
    }
    out = _Rewrite([])
    for event in events:
        kind = event.event_type
        key = (kind, event.event_id)
        if kind is EventType.SubOrchestrationInstanceCreated and key in failed_ids:
            if event.instance_id:
                out.children.append(event.instance_id)
            out.events.append(event)
            continue
        neutralise = (
            kind in _FAILED_COMPLETIONS
            or (kind is EventType.TaskScheduled and key in failed_ids)
            or (
                kind is EventType.ExecutionCompleted
                and event.orchestration_status is OrchestrationRuntimeStatus.Failed
            )
        )
        out.events.append(_generic(event) if neutralise else event)
    return out


async def rewind_instance(
    hub: TaskHubStorage, instance_id: str, reason: str | None, clock: Clock
) -> list[str]:
    """Rewind `instance_id` and its failed sub-orchestrations; the ids that were rewound."""
    rewound: list[str] = []
    await _rewind_tree(hub, instance_id, rewound, top=True)
    for iid in rewound:
        await hub.instances.set_status(iid, OrchestrationRuntimeStatus.Pending, output="null")
        wake = HistoryEvent(EventType.GenericEvent, clock.now(), data=reason or "Rewound")
        await hub.queues.send(TaskMessage(uuid.uuid4().hex, iid, wake, None))
    log.info("Rewound %s (%d instance(s)): %s", instance_id, len(rewound), reason)
    return rewound


async def _rewind_tree(
    hub: TaskHubStorage, instance_id: str, rewound: list[str], top: bool
) -> bool:
    """Rewrite one instance's history and recurse into its failed children. False when the
    instance is not one to rewind (a child that is missing or did not fail)."""
    if instance_id in rewound:
        return True
    for _attempt in range(MAX_COMMIT_ATTEMPTS):
        loaded = await hub.history.load_history(instance_id)
        status = summarize(loaded.events).status
        if status is not OrchestrationRuntimeStatus.Failed:
            # Top level: a rewind interrupted after its commit; finish it. A child that did
            # not fail has nothing to rewind.
            if top and loaded.execution_id:
                rewound.append(instance_id)
            return top and bool(loaded.execution_id)
        plan = rewrite_failures(loaded.events)
        for child in list(plan.children):
            if not await _rewind_tree(hub, child, rewound, top=False):
                plan = _forget_child(plan, child)
        try:
            await hub.history.commit(
                instance_id,
                loaded.execution_id or "",
                plan.events,
                expected_etag=loaded.etag,
                start_seq=0,
                replace_execution=True,
            )
        except HistoryConflictError:
            continue
        rewound.append(instance_id)
        return True
    raise HistoryConflictError(
        f"could not rewind instance {instance_id!r}: its history kept changing; try again"
    )


def _forget_child(plan: _Rewrite, child: str) -> _Rewrite:
    """A failed sub-orchestration that cannot be rewound is created again instead: its
    SubOrchestrationInstanceCreated row is neutralised too, so replay schedules it anew."""
    events = [
        _generic(e)
        if e.event_type is EventType.SubOrchestrationInstanceCreated and e.instance_id == child
        else e
        for e in plan.events
    ]
    children = [c for c in plan.children if c != child]
    return _Rewrite(events, children)
