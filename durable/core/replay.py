"""The replay engine: past history + new events in; new history, actions and state out.

`OrchestrationSession` replays an execution's past once and then applies episodes of new
events, so a host can keep it in memory between episodes (extended sessions) and feed it
only what arrived since. It must be thrown away if an episode's history is not committed
(e.g. the commit lost an ETag race); a fresh session replays from the committed history.
`OrchestrationExecutor.execute` is the one-shot form: a fresh session, one episode.

Nothing here raises for a user's mistake. An orchestrator exception, a non-deterministic
replay or a badly written orchestrator fails the instance with FailureDetails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable.core import events as ev
from durable.core.actions import ACTION_KINDS, Action
from durable.core.context import DurableOrchestrationContext
from durable.core.determinism import ACTION_EVENT_TYPES
from durable.core.driver import DRIVER_MODULE, OrchestratorDriver
from durable.core.handlers import COMPLETION_EVENT_TYPES, HANDLERS, as_utc
from durable.core.history import EventType, FailureDetails, HistoryEvent, OrchestrationRuntimeStatus
from durable.core.replay_state import ExecutionOutcome, ReplayState, completion_id
from durable.core.serialization import dumps
from durable.core.status import DONE_STATUSES
from durable.errors import NonDeterminismError, SerializationError

Orchestrator = Callable[[DurableOrchestrationContext], Any]

_FINAL_EVENTS = frozenset({EventType.ExecutionCompleted, EventType.ContinueAsNew})
# Inbound events a suspended instance records but does not apply until it is resumed.
_HELD_WHILE_SUSPENDED = COMPLETION_EVENT_TYPES | {
    EventType.ExecutionStarted,
    EventType.EventRaised,
    EventType.GenericEvent,
}
_ALWAYS_ACCEPTED = frozenset(
    {
        EventType.EventRaised,
        EventType.GenericEvent,
        EventType.ExecutionTerminated,
        EventType.ExecutionSuspended,
        EventType.ExecutionResumed,
    }
)


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """What one episode produced. Commit `new_history` (empty means: nothing to commit, the
    execution had already completed), then carry out `actions`, then record the state.

    Payloads are JSON text. `output` is the orchestrator's result (Completed), the failure
    message (Failed), the termination reason (Terminated) or the new input
    (ContinuedAsNew, also in `continue_as_new_input`). Unconsumed external events are not
    carried over to the next execution, as in the Durable Functions Python SDK.
    """

    new_history: list[HistoryEvent]
    actions: list[Action]
    status: OrchestrationRuntimeStatus
    output: str | None = None
    failure_details: FailureDetails | None = None
    custom_status: str | None = None
    continue_as_new_input: str | None = None
    ignored_events: list[HistoryEvent] = field(default_factory=list)

    @property
    def is_done(self) -> bool:
        """True when this execution is over (the runtime may start a new one for
        ContinuedAsNew, and notifies a parent for the others)."""
        return self.status in DONE_STATUSES


class OrchestrationSession:
    """One execution of one orchestration instance, live in memory across episodes."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        instance_id: str,
        past_events: Sequence[HistoryEvent] = (),
        *,
        custom_status: str | None = None,
        input_type: type | None = None,
        http_poll_interval: timedelta | None = None,
        default_version: str | None = None,
    ) -> None:
        """`custom_status` (JSON text) is the status the instance had before this replay,
        which the runtime passes so that a status carried over by continue-as-new shows;
        `input_type` is the trigger's `input_type=`; `http_poll_interval` is host.json's
        httpSettings.defaultAsyncRequestSleepTimeMilliseconds (call_http's polling);
        `default_version` is host.json `defaultVersion`, the version of sub-orchestrations
        started without one."""
        self._orchestrator = orchestrator
        self._past = list(past_events)
        past_actions = {e.event_id: e for e in self._past if e.event_type in ACTION_EVENT_TYPES}
        self._state = ReplayState(instance_id, past_actions, custom_status)
        self._state.input_type = input_type
        if http_poll_interval is not None:
            self._state.http_poll_interval = http_poll_interval
        self._state.default_version = default_version
        self._state.name = str(getattr(orchestrator, "__name__", "orchestrator"))
        self._context = DurableOrchestrationContext(self._state)
        self._driver: OrchestratorDriver | None = None
        self._replayed = False
        self._committed = False  # the outcome is already in history
        self._fault_applied = False
        self._suspended = False
        self._held: list[HistoryEvent] = []
        self._history: list[HistoryEvent] = list(self._past)

    @property
    def context(self) -> DurableOrchestrationContext:
        return self._context

    @property
    def fault(self) -> NonDeterminismError | None:
        """The non-determinism replay found (None: the code matched its history)."""
        return self._state.fault

    @property
    def history(self) -> list[HistoryEvent]:
        """The full history of the execution: the past plus every episode's new_history."""
        return list(self._history)

    def apply(self, new_events: Sequence[HistoryEvent], now: datetime) -> EpisodeResult:
        """Run one episode at time `now` (the OrchestratorStarted timestamp)."""
        now = as_utc(now)
        if not self._replayed:
            self._replay_past()
        if self._committed:
            return self._result([], [], ignored=list(new_events))
        self._state.is_replaying = False
        started = ev.orchestrator_started(now)
        new_history = [started]
        ignored: list[HistoryEvent] = []
        self._dispatch(started)
        for event in new_events:
            if self._state.outcome is not None or not self._accepts(event):
                ignored.append(event)
                continue
            new_history.append(event)
            self._dispatch(event)
        return self._close_episode(now, new_history, ignored)

    # --- replay --------------------------------------------------------------------------

    def _replay_past(self) -> None:
        self._replayed = True
        final = next((e for e in self._past if e.event_type in _FINAL_EVENTS), None)
        if final is not None:
            # A finished execution is not re-run: its outcome is what history says.
            for event in self._past:
                if event.event_type is EventType.ExecutionStarted:
                    HANDLERS[EventType.ExecutionStarted](self._state, event)
            self._state.outcome = _recorded_outcome(final)
            self._committed = True
            return
        self._state.is_replaying = True
        for event in self._past:
            if self._fault_applied:
                break
            self._dispatch(event)

    def _dispatch(self, event: HistoryEvent) -> None:
        self._state.history.append(event)
        self._apply(event)

    def _apply(self, event: HistoryEvent) -> None:
        kind = event.event_type
        if kind in _LIFECYCLE:
            _LIFECYCLE[kind](self, event)
        elif self._suspended and kind in _HELD_WHILE_SUSPENDED:
            self._held.append(event)
            return
        else:
            handler = HANDLERS.get(kind)
            if handler is not None:
                handler(self._state, event)
        self._advance()

    def _accepts(self, event: HistoryEvent) -> bool:
        """Whether a new inbound event belongs in history: duplicates, completions of
        unknown tasks and events that only the engine itself writes are dropped."""
        kind = event.event_type
        if kind in _ALWAYS_ACCEPTED:
            return True
        if kind is EventType.ExecutionStarted:
            held_start = any(e.event_type is kind for e in self._held)
            return not self._state.started and not held_start
        if kind in COMPLETION_EVENT_TYPES:
            held = {completion_id(e) for e in self._held if e.event_type in COMPLETION_EVENT_TYPES}
            return self._state.expects(event) and completion_id(event) not in held
        return False

    # --- lifecycle -----------------------------------------------------------------------

    def _on_suspended(self, event: HistoryEvent) -> None:
        self._suspended = True

    def _on_resumed(self, event: HistoryEvent) -> None:
        if not self._suspended:
            return
        self._suspended = False
        held, self._held = self._held, []
        for waiting in held:
            if self._state.outcome is None:
                self._apply(waiting)

    def _on_terminated(self, event: HistoryEvent) -> None:
        if self._state.outcome is not None:
            return
        self._state.outcome = ExecutionOutcome(
            OrchestrationRuntimeStatus.Terminated, output=event.input
        )
        self._state.drop_new_actions()
        self._suspended, self._held = False, []
        if self._driver is not None:
            self._driver.stop()

    def _on_final(self, event: HistoryEvent) -> None:
        self._state.outcome = _recorded_outcome(event)
        self._committed = True

    # --- deciding the outcome ------------------------------------------------------------

    def _advance(self) -> None:
        state = self._state
        if state.outcome is None and state.started and self._driver is None:
            self._driver = OrchestratorDriver(self._orchestrator, self._context, state.name)
            state.location = self._driver.location
            self._driver.start()
        elif state.outcome is None and self._driver is not None:
            self._driver.resume()
        self._decide()

    def _decide(self) -> None:
        state, driver = self._state, self._driver
        if self._committed or self._fault_applied:
            return
        outcome = state.outcome
        terminated = outcome is not None and outcome.status is OrchestrationRuntimeStatus.Terminated
        if state.fault is not None and not terminated:
            self._fault_applied = True
            state.outcome = self._failed(state.fault)
            state.drop_new_actions()
        elif state.outcome is not None or driver is None:
            return
        elif driver.finished is not None and driver.finished.error is not None:
            state.outcome = self._failed(driver.finished.error)
        elif state.will_continue_as_new:
            state.outcome = ExecutionOutcome(
                OrchestrationRuntimeStatus.ContinuedAsNew, output=state.continue_as_new_input
            )
        elif driver.finished is not None:
            state.outcome = self._completed(driver.finished.value)
        if state.outcome is not None and driver is not None:
            section = state.section
            if section is not None and not section.released:
                # Finished while holding locks (acquired, never left with `with`): give
                # them back, as Durable Functions does when an orchestration ends.
                section._release(section)
            driver.stop()

    def _completed(self, value: Any) -> ExecutionOutcome:
        try:
            output = dumps(value, f"output of orchestrator '{self._state.name}'")
        except SerializationError as exc:
            return self._failed(exc)
        return ExecutionOutcome(OrchestrationRuntimeStatus.Completed, output=output)

    def _failed(self, error: BaseException) -> ExecutionOutcome:
        details = FailureDetails.from_exception(error, hide_frames_of=DRIVER_MODULE)
        text = f"Orchestrator function '{self._state.name}' failed: {details.error_message}"
        output = dumps(text, "output")
        return ExecutionOutcome(
            OrchestrationRuntimeStatus.Failed, output=output, failure_details=details
        )

    # --- the episode's output ------------------------------------------------------------

    def _close_episode(
        self, now: datetime, new_history: list[HistoryEvent], ignored: list[HistoryEvent]
    ) -> EpisodeResult:
        state = self._state
        actions = state.take_new_actions()
        new_history.extend(ACTION_KINDS.to_event(action, now) for action in actions)
        outcome = state.outcome
        if outcome is not None and not self._committed:
            new_history.append(_completion_event(outcome, state.next_completion_id(), now))
            self._committed = True
        new_history.append(ev.orchestrator_completed(now))
        self._history.extend(new_history)
        return self._result(new_history, actions, ignored)

    def _result(
        self, new_history: list[HistoryEvent], actions: list[Action], ignored: list[HistoryEvent]
    ) -> EpisodeResult:
        state, outcome = self._state, self._state.outcome
        if outcome is not None:
            status = outcome.status
        elif not state.started:
            status = OrchestrationRuntimeStatus.Pending
        elif self._suspended:
            status = OrchestrationRuntimeStatus.Suspended
        else:
            status = OrchestrationRuntimeStatus.Running
        can = status is OrchestrationRuntimeStatus.ContinuedAsNew
        return EpisodeResult(
            new_history=new_history,
            actions=actions,
            status=status,
            output=outcome.output if outcome else None,
            failure_details=outcome.failure_details if outcome else None,
            custom_status=state.custom_status_json,
            continue_as_new_input=outcome.output if outcome and can else None,
            ignored_events=ignored,
        )


_LIFECYCLE: dict[EventType, Callable[[OrchestrationSession, HistoryEvent], None]] = {
    EventType.ExecutionSuspended: OrchestrationSession._on_suspended,
    EventType.ExecutionResumed: OrchestrationSession._on_resumed,
    EventType.ExecutionTerminated: OrchestrationSession._on_terminated,
    EventType.ExecutionCompleted: OrchestrationSession._on_final,
    EventType.ContinueAsNew: OrchestrationSession._on_final,
}


def _recorded_outcome(event: HistoryEvent) -> ExecutionOutcome:
    if event.event_type is EventType.ContinueAsNew:
        return ExecutionOutcome(OrchestrationRuntimeStatus.ContinuedAsNew, output=event.result)
    status = event.orchestration_status or OrchestrationRuntimeStatus.Completed
    return ExecutionOutcome(status, output=event.result, failure_details=event.failure_details)


def _completion_event(outcome: ExecutionOutcome, event_id: int, now: datetime) -> HistoryEvent:
    if outcome.status is OrchestrationRuntimeStatus.ContinuedAsNew:
        return ev.continue_as_new(now, event_id=event_id, new_input=outcome.output)
    return ev.execution_completed(
        now,
        event_id=event_id,
        status=outcome.status,
        result=outcome.output,
        failure_details=outcome.failure_details,
    )


class OrchestrationExecutor:
    """Replay as one pure call: `execute(past, new, now)` on a fresh session each time."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        instance_id: str,
        *,
        custom_status: str | None = None,
        input_type: type | None = None,
        default_version: str | None = None,
    ) -> None:
        self._orchestrator = orchestrator
        self._instance_id = instance_id
        self._custom_status = custom_status
        self._input_type = input_type
        self._default_version = default_version

    def execute(
        self,
        past_events: Sequence[HistoryEvent],
        new_events: Sequence[HistoryEvent],
        now: datetime,
    ) -> EpisodeResult:
        session = OrchestrationSession(
            self._orchestrator,
            self._instance_id,
            past_events,
            custom_status=self._custom_status,
            input_type=self._input_type,
            default_version=self._default_version,
        )
        return session.apply(new_events, now)
