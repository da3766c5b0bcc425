"""The bookkeeping of one orchestration execution during replay.

It owns the sequence counter, the actions taken and not yet matched against history, the
tasks waiting for completion events, and external events waiting for (or waited on by) the
orchestrator. The context writes to it through `schedule` / `wait_for_event`; the event
handlers write to it through `confirm` / `complete` / `raise_event`. Nothing here runs user
code except task done-callbacks, which only schedule further actions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from durable.core import determinism
from durable.core.actions import Action
from durable.core.critical import CriticalSection
from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationRuntimeStatus,
    ParentInstance,
)
from durable.core.http import DEFAULT_POLL_INTERVAL
from durable.core.task import AtomicTask, TimerTask, failure_error
from durable.errors import NonDeterminismError

_EPOCH = datetime(1, 1, 1, tzinfo=UTC)

TASK_COMPLETIONS = frozenset({EventType.TaskCompleted, EventType.TaskFailed})
SUB_ORCHESTRATION_COMPLETIONS = frozenset(
    {EventType.SubOrchestrationInstanceCompleted, EventType.SubOrchestrationInstanceFailed}
)
TIMER_COMPLETIONS = frozenset({EventType.TimerFired})
NO_COMPLETION: frozenset[EventType] = frozenset()


@dataclass(frozen=True, slots=True)
class ExecutionOutcome:
    """How the execution ended. `output` is JSON text (the result, the failure message, the
    termination reason, or the new input for continue-as-new)."""

    status: OrchestrationRuntimeStatus
    output: str | None = None
    failure_details: FailureDetails | None = None


def completion_id(event: HistoryEvent) -> int | None:
    """The sequence number a completion event refers to (TimerFired uses `timer_id`)."""
    if event.event_type is EventType.TimerFired:
        return event.timer_id
    return event.task_scheduled_id


class ReplayState:
    def __init__(
        self,
        instance_id: str,
        past_actions: Mapping[int, HistoryEvent],
        custom_status: str | None = None,
    ) -> None:
        self.instance_id = instance_id
        self.name = ""
        self.version: str | None = None
        # host.json defaultVersion of the host replaying: the version of children started
        # without one.
        self.default_version: str | None = None
        self.execution_id: str | None = None
        self.input_json: str | None = None
        # The trigger's `input_type=`: what `get_input()` decodes the input as by default.
        self.input_type: type | None = None
        # How long call_http waits before polling a 202 that gave no Retry-After (host.json
        # httpSettings.defaultAsyncRequestSleepTimeMilliseconds).
        self.http_poll_interval = DEFAULT_POLL_INTERVAL
        self.parent: ParentInstance | None = None
        self.started = False
        self.current_utc_datetime = _EPOCH
        self.is_replaying = True
        self.custom_status_json = custom_status
        self.continue_as_new_input: str | None = None
        self.will_continue_as_new = False
        self.outcome: ExecutionOutcome | None = None
        self.fault: NonDeterminismError | None = None
        self.location: Callable[[], str | None] = lambda: None
        self.history: list[HistoryEvent] = []
        self.uuid_counter = 0
        self._seq = 0
        self._past_actions = past_actions
        self._pending: dict[int, Action] = {}
        self._open: dict[int, tuple[frozenset[EventType], AtomicTask]] = {}
        self._done: set[int] = set()
        self._waiters: dict[str, deque[AtomicTask]] = {}
        self._buffered: dict[str, deque[str | None]] = {}
        # The critical section the orchestration is in (see critical.py).
        self.section: CriticalSection | None = None
        # Entity -> sequence number of the last message this execution sent it.
        self._last_sent: dict[str, int] = {}

    # --- actions (called by the context, on behalf of user code) -------------------------

    @property
    def accepts_actions(self) -> bool:
        """False once the execution is decided: after continue_as_new, completion or a
        fault, further calls are ignored (as the SDK ignores actions after continue_as_new)."""
        return self.outcome is None and self.fault is None and not self.will_continue_as_new

    def bind(
        self,
        task: AtomicTask,
        build_action: Callable[[int], Action],
        completes_on: frozenset[EventType],
        *,
        describe: Callable[[int], str] | None = None,
    ) -> int:
        """Give a yielded task the next sequence number and record its action (checked
        against history); returns the number (-1 once the outcome is decided: ignored)."""
        seq = self.record(build_action)
        task.id = seq
        if seq < 0:
            task.description = "call made after the orchestration finished (ignored)"
            return seq
        if describe is not None:
            task.description = describe(seq)
        if completes_on:
            self._open[seq] = (completes_on, task)
        return seq

    def record(self, build_action: Callable[[int], Action], *, force: bool = False) -> int:
        """Take the next sequence number for an action (checked against history) and
        return it; -1 when ignored. `force` takes one even once the outcome is decided
        (giving locks back at the end)."""
        if not self.accepts_actions and not (force and self.fault is None):
            return -1
        seq = self._seq
        self._seq += 1
        action = build_action(seq)
        past = self._past_actions.get(seq)
        if past is not None and not determinism.matches(action, past):
            self._set_fault(determinism.mismatch_error(action, past, self.name, self.location()))
        self._pending[seq] = action
        return seq

    def predecessor_of(self, target: str, seq: int) -> str | None:
        """The message id of the previous message this execution sent to entity `target`
        (None for the first), and note `seq` as the new last one. Message ids of an
        orchestration's outbox are `{execution id}:{sequence}:{EventSent}`."""
        previous = self._last_sent.get(target)
        self._last_sent[target] = seq
        if previous is None:
            return None
        return f"{self.execution_id}:{previous}:{int(EventType.EventSent)}"

    def next_completion_id(self) -> int:
        """The sequence number the completion event (ExecutionCompleted) gets."""
        seq = self._seq
        self._seq += 1
        return seq

    def take_new_actions(self) -> list[Action]:
        actions = [self._pending[k] for k in sorted(self._pending)]
        self._pending.clear()
        return actions

    def drop_new_actions(self) -> None:
        self._pending.clear()

    # --- history (called by event handlers) ----------------------------------------------

    def confirm(self, event: HistoryEvent) -> None:
        """A past action event: the replayed code must have taken that action by now."""
        if self._pending.pop(event.event_id, None) is None and self.fault is None:
            finished = self.outcome is not None
            error = determinism.missing_action_error(event, self.name, self.location(), finished)
            self._set_fault(error)

    def expects(self, event: HistoryEvent) -> bool:
        """Whether a completion event refers to a task that is still waiting for it."""
        seq = completion_id(event)
        entry = self._open.get(seq) if seq is not None else None
        return entry is not None and event.event_type in entry[0]

    def is_duplicate(self, event: HistoryEvent) -> bool:
        return completion_id(event) in self._done

    def complete(self, event: HistoryEvent) -> None:
        """Apply a completion event; unknown and duplicate ones are ignored."""
        if not self.expects(event):
            return
        seq = completion_id(event)
        assert seq is not None
        _, task = self._open.pop(seq)
        self._done.add(seq)
        kind = event.event_type
        if kind is EventType.TimerFired:
            if not (isinstance(task, TimerTask) and task.is_cancelled):
                task._set_result(None)
        elif kind in (EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed):
            error = failure_error(
                event.failure_details, fallback_message=event.reason, description=task.description
            )
            task._set_exception(error)
        else:
            task._resolve(event.result)

    # --- external events -----------------------------------------------------------------

    def wait_for_event(self, name: str, task: AtomicTask) -> AtomicTask:
        """Event names match case-insensitively, as in Durable Functions for .NET; events
        that arrived before anyone waited are taken first-in, first-out."""
        key = name.casefold()
        buffered = self._buffered.get(key)
        if buffered:
            task._resolve(buffered.popleft())
        else:
            self._waiters.setdefault(key, deque()).append(task)
        return task

    def raise_event(self, name: str, input_json: str | None) -> None:
        key = name.casefold()
        waiters = self._waiters.get(key)
        if waiters:
            waiters.popleft()._resolve(input_json)
        else:
            self._buffered.setdefault(key, deque()).append(input_json)

    def _set_fault(self, error: NonDeterminismError) -> None:
        if self.fault is None:
            self.fault = error
