"""Run an orchestrator in memory, for unit tests of your own orchestrations.

`run_orchestrator` drives the real replay engine episode by episode, the way the runtime
does, with no storage and no waiting: activities are plain functions called in-process,
sub-orchestrators run to completion by the same loop, and a fake clock jumps straight to
the next due timer whenever nothing else is left to do. Every episode replays the history
from the start (unless `replay=False`), so code that is not deterministic fails here too.

Example::

    from datetime import timedelta
    import durable as df
    from durable.testing import ExternalEvent, run_orchestrator

    def approval(context: df.DurableOrchestrationContext):
        request = yield context.call_activity("send_request", context.get_input())
        timeout = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
        answer = context.wait_for_external_event("Approval")
        winner = yield context.task_any([answer, timeout])
        if winner == answer:
            timeout.cancel()
            return (yield context.call_activity("apply", answer.result))
        return "timed out"

    def test_approved():
        run = run_orchestrator(
            approval,
            input={"amount": 10},
            activities={"send_request": lambda req: "req-1", "apply": lambda ok: f"done:{ok}"},
            events=[ExternalEvent("Approval", True, after=timedelta(minutes=5))],
        )
        assert run.status == df.OrchestrationRuntimeStatus.Completed  # or run.succeeded
        assert run.output == "done:True"
        assert run.inputs_of("send_request") == [{"amount": 10}]

    def test_timeout():
        run = run_orchestrator(approval, input={}, activities={...})
        assert run.output == "timed out"
        assert run.finished_at - run.started_at == timedelta(hours=1)

Events: `ExternalEvent(name, data, after=None)` is raised `after` (a timedelta or seconds)
from the start, or, with `after=None`, as soon as the orchestration has nothing else to do
(before the clock moves to its next timer), in list order. `Terminate(reason, after=None)`
terminates the instance the same way. A tuple `(after, name, data)` is an ExternalEvent.

An activity that raises produces a TaskFailed (the orchestrator sees a TaskFailedError with
the original type name and message); async activities are run with `asyncio.run`. A run
that can make no progress (waiting on an event that never comes) stops with status
Running; so does one that reaches `max_episodes` (e.g. an eternal orchestration).
With `entities={name: function}` the orchestration's `call_entity`, `signal_entity` and
`lock` are answered by those entity functions, run in memory with the real entity decider
(`run.entity_state(entity_id)` reads their state afterwards); without it, entity requests
are only recorded in `sent_events`.
`call_http` requests are answered by `activities={"BuiltIn::HttpActivity": handler}`, a
function that takes the `DurableHttpRequest` and returns a `DurableHttpResponse`.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from durable.core import events as ev
from durable.core.actions import (
    ACTION_KINDS,
    HTTP_ACTIVITY_NAME,
    CallHttp,
    CreateSubOrchestration,
    CreateTimer,
    ScheduleTask,
    SendEvent,
)
from durable.core.entities import EntityId
from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationRuntimeStatus,
    ParentInstance,
)
from durable.core.http import DurableHttpRequest
from durable.core.registry import INPUT_TYPE_ATTRIBUTE, function_name
from durable.core.replay import EpisodeResult, OrchestrationExecutor, OrchestrationSession
from durable.core.serialization import dumps, loads
from durable.testing.entities import InMemoryEntities

__all__ = ["ActivityCall", "ExternalEvent", "OrchestrationRun", "Terminate", "run_orchestrator"]

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExternalEvent:
    """An external event the test raises: `after` a delay from the start, or when idle."""

    name: str
    data: Any = None
    after: timedelta | float | None = None


@dataclass(frozen=True)
class Terminate:
    """A termination the test asks for, timed like an `ExternalEvent`."""

    reason: Any = None
    after: timedelta | float | None = None


@dataclass
class ActivityCall:
    """One execution of an activity, in call order (sub-orchestrators' calls included)."""

    name: str
    input: Any
    at: datetime
    instance_id: str
    result: Any = None
    error: BaseException | None = None


@dataclass
class OrchestrationRun:
    """The outcome of `run_orchestrator`, for assertions.

    `output` and `custom_status` are decoded values; for a failed run `output` is the
    failure message and `failure_details` says more.
    """

    instance_id: str
    status: OrchestrationRuntimeStatus
    output: Any
    custom_status: Any
    failure_details: FailureDetails | None
    history: list[HistoryEvent]
    activity_calls: list[ActivityCall]
    sub_orchestrations: dict[str, OrchestrationRun]
    sent_events: list[SendEvent]
    started_at: datetime
    finished_at: datetime
    episodes: int
    executions: int = 1

    entities: InMemoryEntities | None = None

    def entity_state(self, entity: EntityId) -> Any:
        """The state of an in-memory entity after the run (None when it has none)."""
        return self.entities.state_of(entity) if self.entities is not None else None

    @property
    def succeeded(self) -> bool:
        """Whether the orchestration completed (rather than failed, or still runs)."""
        return self.status is OrchestrationRuntimeStatus.Completed

    def inputs_of(self, activity: str) -> list[Any]:
        """The inputs `activity` was called with, in order."""
        return [call.input for call in self.activity_calls if call.name == activity]


def run_orchestrator(
    orchestrator: Callable[..., Any],
    input: Any = None,
    *,
    activities: Mapping[str, Callable[..., Any]] | Iterable[Callable[..., Any]] = (),
    sub_orchestrators: Mapping[str, Callable[..., Any]] | Iterable[Callable[..., Any]] = (),
    events: Iterable[ExternalEvent | Terminate | tuple[Any, str, Any]] = (),
    instance_id: str = "test-instance",
    name: str | None = None,
    start_time: datetime = DEFAULT_START,
    max_episodes: int = 1000,
    replay: bool = True,
    entities: Mapping[str, Callable[..., Any]] | Iterable[Callable[..., Any]] | None = None,
    version: str | None = None,
    default_version: str | None = None,
) -> OrchestrationRun:
    """Run `orchestrator` with `input` to completion (or until it can make no progress).

    `version` is the orchestration version (`context.version`), as `start_new(version=)`
    gives it; `default_version` plays host.json `defaultVersion`: the version when
    `version` is None, and that of sub-orchestrations started without one.
    """
    if version is not None and not isinstance(version, str):
        raise ValueError(f"version must be a string or None, got {version!r}")
    if default_version is not None and not isinstance(default_version, str):
        raise ValueError(f"default_version must be a string or None, got {default_version!r}")
    settings = _Settings(
        _by_name(activities, "activities"),
        _by_name(sub_orchestrators, "sub_orchestrators"),
        max_episodes,
        replay,
        _by_name(entities, "entities") if entities is not None else None,
        default_version or None,
    )
    start = start_time if start_time.tzinfo else start_time.replace(tzinfo=UTC)
    name = name or function_name(orchestrator, "orchestrator")
    run = _Run(settings, _user_function(orchestrator), name, instance_id, start,
               version or settings.default_version)
    for item in events:
        run.schedule_user_event(_user_event(item))
    return run.execute(input, parent=None)


@dataclass(frozen=True)
class _Settings:
    activities: dict[str, Callable[..., Any]]
    orchestrators: dict[str, Callable[..., Any]]
    max_episodes: int
    replay: bool
    entities: dict[str, Callable[..., Any]] | None = None
    default_version: str | None = None


@dataclass(order=True)
class _Delivery:
    due: datetime
    order: int
    event: HistoryEvent = field(compare=False)
    from_user: bool = field(default=False, compare=False)


class _Run:
    """One instance's loop: episodes, deliveries due on the fake clock, continue-as-new."""

    def __init__(
        self,
        settings: _Settings,
        orchestrator: Callable[..., Any],
        name: str,
        instance_id: str,
        start: datetime,
        version: str | None = None,
    ) -> None:
        self.settings, self.orchestrator, self.name = settings, orchestrator, name
        self.version = version
        self.instance_id, self.start, self.clock = instance_id, start, start
        self.queue: list[_Delivery] = []
        self.idle_events: list[HistoryEvent] = []
        self.counter = itertools.count()
        self.calls: list[ActivityCall] = []
        self.children: dict[str, OrchestrationRun] = {}
        self.sent: list[SendEvent] = []
        self.all_history: list[HistoryEvent] = []
        self.execution_id = ""
        self.entities = (
            InMemoryEntities(settings.entities, self._entity_answer)
            if settings.entities is not None else None
        )

    def schedule_user_event(self, item: tuple[timedelta | None, HistoryEvent]) -> None:
        after, event = item
        if after is None:
            self.idle_events.append(event)
        else:
            self._deliver_at(self.start + after, event, from_user=True)

    def execute(self, input: Any, parent: ParentInstance | None) -> OrchestrationRun:
        episodes, executions, custom_status = 0, 0, None
        input_json: str | None = dumps(input, f"input of orchestrator '{self.name}'")
        while True:
            executions += 1
            self.execution_id = f"{self.instance_id}-execution-{executions}"
            started = ev.execution_started(
                self.clock,
                name=self.name,
                instance_id=self.instance_id,
                input=input_json,
                execution_id=self.execution_id,
                parent=parent,
                version=self.version,
            )
            result, episodes = self._run_execution(started, custom_status, episodes)
            if (
                result.status is not OrchestrationRuntimeStatus.ContinuedAsNew
                or episodes >= self.settings.max_episodes
            ):
                return self._finish(result, episodes, executions)
            input_json, custom_status = result.continue_as_new_input, result.custom_status
            # Messages for the old execution (timers, ...) are dropped, as the runtime drops
            # them by execution id; events raised by the test are for the instance and stay.
            self.queue = [d for d in self.queue if d.from_user]
            heapq.heapify(self.queue)

    def _run_execution(
        self, started: HistoryEvent, custom_status: str | None, episodes: int
    ) -> tuple[EpisodeResult, int]:
        history: list[HistoryEvent] = []
        input_type = getattr(self.orchestrator, INPUT_TYPE_ATTRIBUTE, None)
        default_version = self.settings.default_version
        session = OrchestrationSession(
            self.orchestrator, self.instance_id, custom_status=custom_status,
            input_type=input_type, default_version=default_version,
        )
        inbox = [started]
        while True:
            if self.settings.replay:
                executor = OrchestrationExecutor(
                    self.orchestrator, self.instance_id, custom_status=custom_status,
                    input_type=input_type, default_version=default_version,
                )
                result = executor.execute(history, inbox, self.clock)
            else:
                result = session.apply(inbox, self.clock)
            episodes += 1
            history.extend(result.new_history)
            self.all_history.extend(result.new_history)
            for action in result.actions:
                self._perform(action)
            if result.is_done or episodes >= self.settings.max_episodes:
                return result, episodes
            inbox = self._next_inbox()
            if not inbox:
                return result, episodes

    def _next_inbox(self) -> list[HistoryEvent]:
        """Everything due now; else the next event raised 'when idle'; else jump the clock."""
        if not (self.queue and self.queue[0].due <= self.clock):
            if self.idle_events:
                return [self.idle_events.pop(0).replace(timestamp=self.clock)]
            if self.queue:
                self.clock = self.queue[0].due
        inbox = []
        while self.queue and self.queue[0].due <= self.clock:
            inbox.append(heapq.heappop(self.queue).event)
        return inbox

    def _deliver_at(self, due: datetime, event: HistoryEvent, from_user: bool = False) -> None:
        delivery = _Delivery(due, next(self.counter), event.replace(timestamp=due), from_user)
        heapq.heappush(self.queue, delivery)

    def _perform(self, action: Any) -> None:
        """Carry out an action in memory: one handler per kind of action."""
        performers: dict[str, Callable[[Any], None]] = {
            "call_activity": lambda a: self._deliver_at(self.clock, self._call_activity(a)),
            "call_http": lambda a: self._deliver_at(self.clock, self._call_activity(a)),
            "create_timer": self._fire_timer,
            "call_sub_orchestrator": self._run_child,
            "send_event": self.sent.append,
            "call_entity": self._to_entity,
            "signal_entity": self._to_entity,
            "lock": self._to_entity,
            "release_lock": self._to_entity,
        }
        performers[ACTION_KINDS.of_action(action).name](action)

    def _to_entity(self, action: SendEvent) -> None:
        self.sent.append(action)
        if self.entities is not None:
            mid = f"{self.execution_id}:{action.event_id}:{int(EventType.EventSent)}"
            self.entities.send(mid, action.instance_id, action.name, action.input, self.clock)

    def _entity_answer(self, target: str, event_name: str, payload: str | None) -> None:
        if target == self.instance_id:
            self._deliver_at(self.clock, ev.event_raised(self.clock, name=event_name,
                                                          input=payload))

    def _fire_timer(self, action: CreateTimer) -> None:
        fired = ev.timer_fired(action.fire_at, timer_id=action.timer_id, fire_at=action.fire_at)
        self._deliver_at(action.fire_at, fired)

    def _call_activity(self, action: ScheduleTask) -> HistoryEvent:
        fn = self.settings.activities.get(action.name)
        if fn is None:
            raise ValueError(
                _missing("activity", action.name, self.settings.activities, "activities")
                + (_HTTP_HINT if isinstance(action, CallHttp) else "")
            )
        # A call_http request is answered by the function named BuiltIn::HttpActivity,
        # which gets the DurableHttpRequest and returns a DurableHttpResponse (or its dict).
        given = (DurableHttpRequest.from_activity_input(action.input)
                 if isinstance(action, CallHttp) else loads(action.input))
        call = ActivityCall(action.name, given, self.clock, self.instance_id)
        self.calls.append(call)
        try:
            value = fn(call.input)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
            result = dumps(value, f"output of activity '{action.name}'")
        except Exception as exc:
            call.error = exc
            details = FailureDetails.from_exception(exc)
            return ev.task_failed(
                self.clock, task_scheduled_id=action.task_id, failure_details=details
            )
        call.result = value
        return ev.task_completed(self.clock, task_scheduled_id=action.task_id, result=result)

    def _run_child(self, action: CreateSubOrchestration) -> None:
        fn = self.settings.orchestrators.get(action.name)
        if fn is None:
            raise ValueError(
                _missing(
                    "sub-orchestrator",
                    action.name,
                    self.settings.orchestrators,
                    "sub_orchestrators",
                )
            )
        child = _Run(self.settings, fn, action.name, action.instance_id, self.clock,
                     action.version)
        parent = ParentInstance(self.name, self.instance_id, "", action.task_id)
        outcome = child.execute(loads(action.input), parent)
        self.children[action.instance_id] = outcome
        self.calls.extend(outcome.activity_calls)
        if outcome.status is OrchestrationRuntimeStatus.Completed:
            event = ev.sub_orchestration_completed(
                outcome.finished_at,
                task_scheduled_id=action.task_id,
                result=dumps(outcome.output, "t"),
            )
        elif outcome.failure_details is not None:
            event = ev.sub_orchestration_failed(
                outcome.finished_at,
                task_scheduled_id=action.task_id,
                failure_details=outcome.failure_details,
            )
        else:
            return  # the child never finished, so the parent keeps waiting
        self._deliver_at(outcome.finished_at, event)

    def _finish(self, result: EpisodeResult, episodes: int, executions: int) -> OrchestrationRun:
        failure = result.failure_details
        output = failure.error_message if failure is not None else loads(result.output)
        return OrchestrationRun(
            instance_id=self.instance_id,
            status=result.status,
            output=output,
            custom_status=loads(result.custom_status),
            failure_details=failure,
            history=self.all_history,
            activity_calls=self.calls,
            sub_orchestrations=self.children,
            sent_events=self.sent,
            started_at=self.start,
            finished_at=self.clock,
            episodes=episodes,
            executions=executions,
            entities=self.entities,
        )


async def _await(value: Any) -> Any:
    return await value


def _user_event(
    item: ExternalEvent | Terminate | tuple[Any, str, Any],
) -> tuple[timedelta | None, HistoryEvent]:
    if isinstance(item, tuple):
        after, name, data = item
        item = ExternalEvent(name, data, after)
    after = item.after
    delay = timedelta(seconds=after) if isinstance(after, int | float) else after
    if isinstance(item, Terminate):
        return delay, ev.execution_terminated(
            DEFAULT_START, dumps(item.reason, "termination reason")
        )
    data = dumps(item.data, f"data of event '{item.name}'")
    return delay, ev.event_raised(DEFAULT_START, name=item.name, input=data)


def _user_function(fn: Any) -> Callable[..., Any]:
    """Accept functions decorated with an app's triggers: call the user's own function."""
    inner = getattr(fn, "_function", None)
    get_user_function = getattr(inner, "get_user_function", None)
    return get_user_function() if callable(get_user_function) else fn  # type: ignore[no-any-return]


def _by_name(
    functions: Mapping[str, Callable[..., Any]] | Iterable[Callable[..., Any]], argument: str
) -> dict[str, Callable[..., Any]]:
    if isinstance(functions, Mapping):
        return {name: _user_function(fn) for name, fn in functions.items()}
    named: dict[str, Callable[..., Any]] = {}
    for fn in functions:
        if not callable(fn) and getattr(fn, "_function", None) is None:
            raise ValueError(f"{argument} must map names to functions, got {fn!r}")
        named[function_name(fn, argument)] = _user_function(fn)
    return named


_HTTP_HINT = (
    f" call_http requests go to activities={{'{HTTP_ACTIVITY_NAME}': handler}}, a function "
    "that takes the DurableHttpRequest and returns a DurableHttpResponse."
)


def _missing(kind: str, name: str, known: Mapping[str, Any], argument: str) -> str:
    names = ", ".join(sorted(known)) or "none"
    return (
        f"The orchestrator called {kind} '{name}', but run_orchestrator({argument}=...) "
        f"has no function by that name (it has: {names})."
    )
