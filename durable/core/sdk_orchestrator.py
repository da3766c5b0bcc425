"""`Orchestrator`: the SDK's way to run an orchestrator on a trigger payload, on our engine.

The SDK's unit tests (and users' tests written like them) do
`Orchestrator(fn).handle(DurableOrchestrationContext.from_json(history_json))` and compare
the returned `OrchestratorState` JSON. Here the payload's history is replayed by our replay
engine (`OrchestrationSession`): the events already played are the past, the rest arrive as
episodes (one per OrchestratorStarted), and the tasks the orchestrator yielded are written
back as the SDK's actions: one list per yield in schema V1 (a `task_all` is the list of its
children's actions), one list of actions with nested `WhenAll`/`WhenAny` in V2; a signal is
its own entry, where it was called; `continue_as_new` ends the list.

Differences (documented in docs/api.md): history events the engine does not expect (a
TaskScheduled the code did not take) are a non-determinism failure, where the SDK is lenient;
child instance ids and entity request ids follow our derivation.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Generator, Mapping
from datetime import datetime
from typing import Any

from durable.core.actions import (
    CallEntity,
    CreateSubOrchestration,
    CreateTimer,
    ScheduleTask,
    SendEvent,
    SignalEntity,
)
from durable.core.context import (
    DurableOrchestrationContext,
    entity_request_id,
    sdk_invocation_of,
)
from durable.core.determinism import ACTION_EVENT_TYPES
from durable.core.entities import EntityId
from durable.core.history import EventType, HistoryEvent, OrchestrationRuntimeStatus
from durable.core.http_task import HttpTask
from durable.core.registry import INPUT_TYPE_ATTRIBUTE
from durable.core.replay import EpisodeResult, OrchestrationSession
from durable.core.sdk_actions import (
    Action,
    CallActivityAction,
    CallActivityWithRetryAction,
    CallEntityAction,
    CallHttpAction,
    CallSubOrchestratorAction,
    CallSubOrchestratorWithRetryAction,
    ContinueAsNewAction,
    CreateTimerAction,
    OrchestratorState,
    ReplaySchema,
    SignalEntityAction,
    WaitForExternalEventAction,
    WhenAllAction,
    WhenAnyAction,
)
from durable.core.sdk_json import SdkInvocation, SdkPayloadError
from durable.core.task import AtomicTask, RetryableTask, Task, TimerTask, WhenAllTask, WhenAnyTask
from durable.errors import DurableError

_OWN_EVENTS = ACTION_EVENT_TYPES | {EventType.OrchestratorStarted, EventType.OrchestratorCompleted}
OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:"


class OrchestratorFailedError(DurableError):
    """The orchestrator failed; the message is the SDK's: the error, then the state JSON."""


class Orchestrator:
    """Runs a generator orchestrator on an SDK trigger payload (the SDK's `Orchestrator`)."""

    def __init__(self, activity_func: Callable[[DurableOrchestrationContext], Any]) -> None:
        self.fn = activity_func
        self.durable_context: DurableOrchestrationContext | None = None

    def handle(self, context: DurableOrchestrationContext | str) -> str:
        """Run the orchestrator on `context` and return the OrchestratorState JSON text.

        A failed orchestrator raises `OrchestratorFailedError`, whose message is the error
        followed by `$OutOfProcData$:` and the state JSON, as the SDK raises it.
        """
        if not isinstance(context, DurableOrchestrationContext):
            context = DurableOrchestrationContext.from_json(context)
        self.durable_context = context
        invocation = sdk_invocation_of(context)
        if invocation is None:
            raise SdkPayloadError(
                "Orchestrator.handle needs a context read from a trigger payload: pass "
                "DurableOrchestrationContext.from_json(payload), or the payload itself."
            )
        run = _SdkRun(self.fn, invocation, context)
        state = run.execute()
        # The context the code ran with (as in the SDK, where it is the one passed in).
        self.durable_context = run.context or context
        text = state.to_json_string()
        if state.error is not None:
            raise OrchestratorFailedError(f"{state.error}{OUT_OF_PROC_LABEL}{text}")
        return text

    @classmethod
    def create(
        cls, fn: Callable[[DurableOrchestrationContext], Any]
    ) -> Callable[[Any], str]:
        """The handle the SDK registers: takes a context, its JSON, or an object whose
        `body` is that JSON; `handle.orchestrator_function` is `fn`."""

        def handle(context: Any) -> str:
            body = getattr(context, "body", None)
            return Orchestrator(fn).handle(context if body is None else body)

        handle.orchestrator_function = fn  # type: ignore[attr-defined]
        return handle


class _SdkRun:
    """One `handle` call: replay the payload, then write what was yielded as SDK actions."""

    def __init__(
        self,
        fn: Callable[..., Any],
        invocation: SdkInvocation,
        context: DurableOrchestrationContext,
    ) -> None:
        self._fn = fn
        self._invocation = invocation
        self._function_context = context.function_context
        self._yields: list[Any] = []
        self._actions: Mapping[int, object] = {}
        self.context: DurableOrchestrationContext | None = None

    def execute(self) -> OrchestratorState:
        history = _with_our_request_ids(self._invocation.history, self._invocation.instance_id)
        past, episodes = _split(history)
        session = OrchestrationSession(
            self._observed(),
            self._invocation.instance_id,
            past,
            input_type=getattr(self._fn, INPUT_TYPE_ATTRIBUTE, None),
            log_actions=True,
        )
        session.context._function_context = self._function_context
        self.context = session.context
        result: EpisodeResult | None = None
        for when, events in episodes:
            result = session.apply(events, when)
            if result.is_done:
                break
        assert result is not None
        self._actions = session.logged_actions
        return self._state(result)

    def _observed(self) -> Callable[[DurableOrchestrationContext], Any]:
        fn, yields = self._fn, self._yields

        @functools.wraps(fn)
        def observed(context: DurableOrchestrationContext) -> Any:
            returned = fn(context)
            if isinstance(returned, Generator):
                return (yield from _watch(returned, yields))
            return returned

        return observed

    def _state(self, result: EpisodeResult) -> OrchestratorState:
        schema = self._invocation.replay_schema
        groups = self._groups(schema)
        status = result.status
        if status is OrchestrationRuntimeStatus.ContinuedAsNew:
            groups.append((None, [_continue_as_new(result.continue_as_new_input)]))
        actions = [group for _, group in groups]
        if schema is ReplaySchema.V2:
            actions = [[a for group in actions for a in group]]
        error = None
        if status is OrchestrationRuntimeStatus.Failed:
            details = result.failure_details
            error = details.error_message if details is not None else _loads(result.output)
        done = status in (OrchestrationRuntimeStatus.Completed,
                          OrchestrationRuntimeStatus.ContinuedAsNew)
        return OrchestratorState(
            is_done=done,
            actions=actions,
            output=_loads(result.output) if status is OrchestrationRuntimeStatus.Completed
            else None,
            replay_schema=schema,
            error=error,
            custom_status=_loads(result.custom_status),
        )

    def _groups(self, schema: ReplaySchema) -> list[tuple[int | None, list[Action]]]:
        """(first sequence number, actions) per yield that scheduled something, with the
        signals placed by their sequence numbers."""
        seen: set[int] = set()
        groups: list[tuple[int | None, list[Action]]] = []
        for yielded in self._yields:
            seqs: list[int] = []
            actions = self._new_actions(yielded, seen, seqs, nest=schema is ReplaySchema.V2)
            if actions:
                groups.append((min(seqs) if seqs else None, actions))
        for seq in sorted(self._actions):
            action = self._actions[seq]
            if isinstance(action, SignalEntity):
                at = next((i for i, (s, _) in enumerate(groups) if s is not None and s > seq),
                          len(groups))
                groups.insert(at, (seq, [_entity_action(SignalEntityAction, action)]))
        return groups

    def _new_actions(
        self, task: Any, seen: set[int], seqs: list[int], *, nest: bool
    ) -> list[Action]:
        if not isinstance(task, Task) or id(task) in seen:
            return []
        seen.add(id(task))
        if isinstance(task, WhenAllTask | WhenAnyTask):
            children = [a for c in task.children for a in self._new_actions(c, seen, seqs,
                                                                             nest=nest)]
            if not nest:
                return children
            compound = WhenAllAction if isinstance(task, WhenAllTask) else WhenAnyAction
            return [compound(children)]
        action = self._leaf_action(task, seqs)
        return [action] if action is not None else []

    def _leaf_action(self, task: Task[Any], seqs: list[int]) -> Action | None:
        if isinstance(task, HttpTask):
            return CallHttpAction(task.request)
        if isinstance(task, RetryableTask):
            first = task.first_attempt
            if not isinstance(first, AtomicTask) or not isinstance(first.id, int):
                return None
            seqs.append(first.id)
            return _with_retry(self._actions.get(first.id), task)
        if not isinstance(task, AtomicTask):
            return None
        if isinstance(task.id, str):
            return WaitForExternalEventAction(task.id)
        if not isinstance(task.id, int) or task.id < 0:
            return None
        seqs.append(task.id)
        action = self._actions.get(task.id)
        if isinstance(task, TimerTask) and isinstance(action, CreateTimer):
            return CreateTimerAction(task.fire_at, task.is_cancelled)
        return _plain(action, self._invocation.instance_id)


def _watch(gen: Generator[Any, Any, Any], yields: list[Any]) -> Generator[Any, Any, Any]:
    """Pass the orchestrator's yields through, noting each yielded value in order."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            yielded = gen.throw(error) if error is not None else gen.send(value)
        except StopIteration as stop:
            return stop.value
        yields.append(yielded)
        try:
            value, error = (yield yielded), None
        except GeneratorExit:
            gen.close()
            raise
        except BaseException as exc:  # delivered at the user's yield, as the driver meant
            value, error = None, exc


def _with_our_request_ids(history: list[HistoryEvent], instance_id: str) -> list[HistoryEvent]:
    """Entity responses renamed from the extension's request ids (in each EventSent's
    input) to the ids our context gives its requests, so that they answer the calls."""
    execution = next((e.execution_id for e in history
                      if e.event_type is EventType.ExecutionStarted), None)
    renames: dict[str, str] = {}
    for event in history:
        if event.event_type is EventType.EventSent and event.event_id >= 0:
            try:
                sent = json.loads(event.input or "")
            except ValueError:
                continue
            if isinstance(sent, dict) and isinstance(sent.get("id"), str):
                renames[sent["id"]] = entity_request_id(instance_id, execution, event.event_id)
    if not renames:
        return history
    return [
        e.replace(name=renames[e.name])
        if e.event_type is EventType.EventRaised and e.name in renames else e
        for e in history
    ]


def _split(
    history: list[HistoryEvent],
) -> tuple[list[HistoryEvent], list[tuple[datetime, list[HistoryEvent]]]]:
    """The played part (the past) and the rest as episodes, each with its start time."""
    start = len(history)
    for index, event in enumerate(history):
        # Only events that came from outside say whether they were played (the events that
        # record the orchestrator's own actions follow the code): the past ends before the
        # first one that was not.
        if event.event_type not in _OWN_EVENTS and not event.is_played:
            start = index
            break
    while start > 0 and history[start - 1].event_type is EventType.OrchestratorStarted:
        start -= 1
    past, rest = history[:start], history[start:]
    starts = [e.timestamp for e in past if e.event_type is EventType.OrchestratorStarted]
    when = starts[-1] if starts else (history[0].timestamp if history else datetime.now())
    episodes: list[tuple[datetime, list[HistoryEvent]]] = []
    current: list[HistoryEvent] = []
    for event in rest:
        if event.event_type is EventType.OrchestratorStarted:
            if current or episodes:
                episodes.append((when, current))
            when, current = event.timestamp, []
        else:
            current.append(event)
    episodes.append((when, current))
    return past, episodes


def _plain(action: object, instance_id: str) -> Action | None:
    """Our action as the SDK's (entity calls carry the operation's input, not the request)."""
    if isinstance(action, ScheduleTask):
        return _encoded(CallActivityAction(action.name), "input_", action.input)
    if isinstance(action, CreateSubOrchestration):
        derived = action.instance_id == f"{instance_id}:{action.task_id}"
        sub = CallSubOrchestratorAction(action.name, None, None if derived else action.instance_id)
        return _encoded(sub, "_input", action.input)
    if isinstance(action, CallEntity):
        return _entity_action(CallEntityAction, action)
    return None


def _with_retry(action: object, task: RetryableTask) -> Action | None:
    if isinstance(action, ScheduleTask):
        retry = CallActivityWithRetryAction(action.name, task.options)
        return _encoded(retry, "input_", action.input)
    if isinstance(action, CreateSubOrchestration):
        sub = CallSubOrchestratorWithRetryAction(action.name, task.options)
        return _encoded(sub, "_input", action.input)
    return None


def _entity_action(cls: type[CallEntityAction | SignalEntityAction], action: SendEvent) -> Action:
    operation = getattr(action, "operation", "") or action.name
    sdk = cls(EntityId.get_entity_id(action.instance_id), operation)
    try:
        request = json.loads(action.input or "{}")
    except ValueError:
        request = {}
    operation_input = request.get("input") if isinstance(request, dict) else None
    return _encoded(sdk, "input_", operation_input if operation_input is not None else "null")


def _encoded(action: Action, attribute: str, text: str | None) -> Action:
    """Set an action's input to JSON text we already have (the SDK encodes None as null)."""
    setattr(action, attribute, text if text is not None else "null")
    return action


def _continue_as_new(input_json: str | None) -> Action:
    return _encoded(ContinueAsNewAction(), "input_", input_json)


def _loads(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
