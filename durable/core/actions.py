"""Outbound actions an orchestration episode asks the runtime to carry out, and the one table
of action kinds that says everything else about them.

Every action is also recorded in the episode's new history (TaskScheduled, TimerCreated,
SubOrchestrationInstanceCreated, EventSent, with their inputs), so a runtime can re-derive
the messages to send from committed history after a crash. The action objects are the
convenient form of the same facts. Payloads are JSON text, already encoded.

`ACTION_KINDS` has one row per kind of action: the history event that records it, both
directions of that mapping, how it reads in a non-determinism message, the rule that says
whether replayed code took the same action, and where its message goes. Adding a kind of
action is adding a row; nothing else dispatches on action types.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from durable.core import events as ev
from durable.core.entities import (
    ENTITY_OPERATION_EVENT,
    RELEASE_EVENT,
    EntityRequest,
    is_entity_id,
)
from durable.core.history import EventType, HistoryEvent, ParentInstance
from durable.errors import SerializationError


@dataclass(frozen=True, slots=True)
class ScheduleTask:
    """Run activity `name`; its completion comes back as TaskCompleted/TaskFailed(task_id)."""

    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True, slots=True)
class CallHttp(ScheduleTask):
    """A durable HTTP request: the built-in activity `BuiltIn::HttpActivity` whose input is
    the request; `method` and `uri` are what replay must do again."""

    method: str = ""
    uri: str = ""


@dataclass(frozen=True, slots=True)
class CreateTimer:
    """Deliver TimerFired(timer_id) at `fire_at` (timezone-aware UTC)."""

    timer_id: int
    fire_at: datetime


@dataclass(frozen=True, slots=True)
class CreateSubOrchestration:
    """Start orchestration `name` as `instance_id`, with this instance as its parent."""

    task_id: int
    name: str
    instance_id: str
    input: str | None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class SendEvent:
    """Raise event `name` on instance `instance_id`."""

    event_id: int
    instance_id: str
    name: str
    input: str | None


@dataclass(frozen=True, slots=True)
class CallEntity(SendEvent):
    """Run `operation` on entity `instance_id` and answer with the result; recorded as an
    EventSent named `op` whose input is the request."""

    operation: str = ""


@dataclass(frozen=True, slots=True)
class SignalEntity(SendEvent):
    """Run `operation` on entity `instance_id` (at `due`, when scheduled); no answer."""

    operation: str = ""
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class LockEntities(SendEvent):
    """Ask for the locks of `lockset` (sorted), starting with its first entity."""

    lockset: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReleaseLock(SendEvent):
    """Give the lock of entity `instance_id` back at the end of a critical section."""


Action = ScheduleTask | CreateTimer | CreateSubOrchestration | SendEvent
A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class Origin:
    """The instance that took an action: what a message it sends says about its sender."""

    instance_id: str
    execution_id: str
    name: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where an action's message goes and what it carries: `event` for `instance_id`
    (execution `execution_id`, or whichever is current when None), on the work-item queue
    when `to_work_items`, hidden until `visible_at`."""

    instance_id: str
    event: HistoryEvent
    execution_id: str | None
    to_work_items: bool = False
    visible_at: datetime | None = None
    # Whether the message names its sender (events do; a receiver may answer them).
    from_origin: bool = False


@dataclass(frozen=True)
class ActionKind(Generic[A]):
    """Everything about one kind of action (see the module docstring)."""

    name: str
    action_type: type[A]
    event_type: EventType
    to_event: Callable[[A, datetime], HistoryEvent]
    from_event: Callable[[HistoryEvent], A]
    describe: Callable[[A], str]
    describe_event: Callable[[HistoryEvent], str]
    same_action: Callable[[A, HistoryEvent], bool]
    deliver: Callable[[A, Origin], Delivery]
    # For event types that record more than one kind (EventSent): which events are this kind.
    recognizes: Callable[[HistoryEvent], bool] = lambda _event: True


def _activity_kind() -> ActionKind[ScheduleTask]:
    return ActionKind(
        name="call_activity",
        action_type=ScheduleTask,
        event_type=EventType.TaskScheduled,
        to_event=lambda a, ts: ev.task_scheduled(ts, event_id=a.task_id, name=a.name,
                                                 input=a.input),
        from_event=lambda e: ScheduleTask(e.event_id, e.name or "", e.input),
        describe=lambda a: f"call_activity {a.name}",
        describe_event=lambda e: f"TaskScheduled {e.name}",
        # Durable Task compares activity names case-insensitively.
        same_action=lambda a, e: a.name.lower() == (e.name or "").lower(),
        deliver=lambda a, o: Delivery(
            o.instance_id,
            ev.task_scheduled(o.now, event_id=a.task_id, name=a.name, input=a.input),
            o.execution_id,
            to_work_items=True,
        ),
    )


HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity"


def _http_target(event: HistoryEvent) -> tuple[str, str]:
    """The method and uri of the request a BuiltIn::HttpActivity TaskScheduled carries."""
    try:
        data = json.loads(event.input or "")
        request = data[0] if isinstance(data, list) and data else data
        return str(request.get("method") or ""), str(request.get("uri") or "")
    except (ValueError, AttributeError):
        return "", ""


def _same_request(action: CallHttp, method: str, uri: str) -> bool:
    return action.method.upper() == method.upper() and action.uri == uri


def _http_kind() -> ActionKind[CallHttp]:
    def from_event(e: HistoryEvent) -> CallHttp:
        method, uri = _http_target(e)
        return CallHttp(e.event_id, e.name or HTTP_ACTIVITY_NAME, e.input, method, uri)

    return ActionKind(
        name="call_http",
        action_type=CallHttp,
        event_type=EventType.TaskScheduled,
        to_event=lambda a, ts: ev.task_scheduled(ts, event_id=a.task_id, name=a.name,
                                                 input=a.input),
        from_event=from_event,
        describe=lambda a: f"call_http {a.method} {a.uri}",
        describe_event=lambda e: "TaskScheduled call_http {} {}".format(*_http_target(e)),
        # Stricter than Durable Task (which compares the activity name only): the same
        # method and uri, since a changed request is a changed orchestration.
        same_action=lambda a, e: _same_request(a, *_http_target(e)),
        deliver=lambda a, o: Delivery(
            o.instance_id,
            ev.task_scheduled(o.now, event_id=a.task_id, name=a.name, input=a.input),
            o.execution_id,
            to_work_items=True,
        ),
        recognizes=lambda e: (e.name or "").lower() == HTTP_ACTIVITY_NAME.lower(),
    )


def _timer_kind() -> ActionKind[CreateTimer]:
    return ActionKind(
        name="create_timer",
        action_type=CreateTimer,
        event_type=EventType.TimerCreated,
        to_event=lambda a, ts: ev.timer_created(ts, event_id=a.timer_id, fire_at=a.fire_at),
        from_event=lambda e: CreateTimer(e.event_id, e.fire_at or datetime.min),
        describe=lambda a: "create_timer",
        describe_event=lambda e: "TimerCreated",
        same_action=lambda a, e: True,
        deliver=lambda a, o: Delivery(
            o.instance_id,
            ev.timer_fired(o.now, timer_id=a.timer_id, fire_at=a.fire_at),
            o.execution_id,
            visible_at=a.fire_at,
        ),
    )


def _sub_orchestration_kind(
    child_execution_id: Callable[[str, int], str],
) -> ActionKind[CreateSubOrchestration]:
    def deliver(a: CreateSubOrchestration, o: Origin) -> Delivery:
        execution_id = child_execution_id(o.execution_id, a.task_id)
        parent = ParentInstance(o.name, o.instance_id, o.execution_id, a.task_id)
        start = ev.execution_started(
            o.now,
            name=a.name,
            instance_id=a.instance_id,
            input=a.input,
            execution_id=execution_id,
            parent=parent,
            version=a.version,
        )
        return Delivery(a.instance_id, start, execution_id)

    return ActionKind(
        name="call_sub_orchestrator",
        action_type=CreateSubOrchestration,
        event_type=EventType.SubOrchestrationInstanceCreated,
        to_event=lambda a, ts: ev.sub_orchestration_created(
            ts, event_id=a.task_id, name=a.name, instance_id=a.instance_id, input=a.input,
            version=a.version,
        ),
        from_event=lambda e: CreateSubOrchestration(
            e.event_id, e.name or "", e.instance_id or "", e.input, e.version
        ),
        describe=lambda a: f"call_sub_orchestrator {a.name} (instance '{a.instance_id}')",
        describe_event=lambda e: (
            f"SubOrchestrationInstanceCreated {e.name} (instance '{e.instance_id}')"
        ),
        same_action=lambda a, e: (
            a.name.lower() == (e.name or "").lower() and a.instance_id == e.instance_id
        ),
        deliver=deliver,
    )


def send_event_kind(
    name: str,
    action_type: type[Any],
    recognizes: Callable[[HistoryEvent], bool],
    describe: Callable[[Any], str],
    describe_event: Callable[[HistoryEvent], str],
    same_action: Callable[[Any, HistoryEvent], bool],
    from_event: Callable[[HistoryEvent], Any],
) -> ActionKind[Any]:
    """A kind recorded as EventSent and delivered as EventRaised to the target instance
    (plain events, and the entity operations built on them)."""
    return ActionKind(
        name=name,
        action_type=action_type,
        event_type=EventType.EventSent,
        to_event=lambda a, ts: ev.event_sent(
            ts, event_id=a.event_id, instance_id=a.instance_id, name=a.name, input=a.input
        ).replace(fire_at=getattr(a, "due", None)),
        from_event=from_event,
        describe=describe,
        describe_event=describe_event,
        same_action=same_action,
        deliver=lambda a, o: Delivery(
            a.instance_id,
            ev.event_raised(o.now, name=a.name, input=a.input).replace(
                fire_at=getattr(a, "due", None)
            ),
            None,
            from_origin=True,
            visible_at=getattr(a, "due", None),
        ),
        recognizes=recognizes,
    )


def _event_kind() -> ActionKind[Any]:
    return send_event_kind(
        name="send_event",
        action_type=SendEvent,
        recognizes=lambda e: True,
        describe=lambda a: f"send event {a.name} to '{a.instance_id}'",
        describe_event=lambda e: f"EventSent {e.name} to '{e.instance_id}'",
        same_action=lambda a, e: a.instance_id == e.instance_id and a.name == e.name,
        from_event=lambda e: SendEvent(
            e.event_id, e.instance_id or "", e.name or "", e.input
        ),
    )


# Namespace for deterministic child execution ids, so a re-sent sub-orchestration start is
# the same message as the first one.
_EXECUTION_NAMESPACE = uuid.UUID("6f2f3a1e-52b5-4d3a-9f59-5c0b1b4f6f0e")


def child_execution_id(parent_execution_id: str, event_id: int) -> str:
    """The execution id of the child a sub-orchestration action starts: derived, not random,
    so that every derivation of the start message is the same message."""
    return uuid.uuid5(_EXECUTION_NAMESPACE, f"{parent_execution_id}:{event_id}").hex


class ActionKinds:
    """The table of action kinds, looked up by action type or by recorded event."""

    def __init__(self, kinds: list[ActionKind[Any]]) -> None:
        self._kinds = list(kinds)
        self._by_type: dict[type[Any], ActionKind[Any]] = {k.action_type: k for k in kinds}
        self.event_types = frozenset(k.event_type for k in kinds)

    def add(self, kind: ActionKind[Any], *, before: str | None = None) -> None:
        """Add a kind; `before` puts it ahead of the kind of that name, for event types
        that record several kinds (the first kind that recognizes an event wins)."""
        at = next((i for i, k in enumerate(self._kinds) if k.name == before), len(self._kinds))
        self._kinds.insert(at, kind)
        self._by_type[kind.action_type] = kind
        self.event_types = frozenset(k.event_type for k in self._kinds)

    def of_action(self, action: object) -> ActionKind[Any]:
        """The kind of `action` (by its exact type); KeyError for an unknown type."""
        return self._by_type[type(action)]

    def of_event(self, event: HistoryEvent) -> ActionKind[Any] | None:
        """The kind a history event records, or None for events that record no action."""
        for kind in self._kinds:
            if kind.event_type is event.event_type and kind.recognizes(event):
                return kind
        return None

    def to_event(self, action: object, timestamp: datetime) -> HistoryEvent:
        """The history event that records `action` having been taken."""
        return self.of_action(action).to_event(action, timestamp)

    def from_event(self, event: HistoryEvent) -> object | None:
        """The action a committed history event records (None: it records none); what lets
        a runtime re-send outbound messages after a crash between commit and send."""
        kind = self.of_event(event)
        return kind.from_event(event) if kind is not None else None

    def describe(self, action: object) -> str:
        """How an action reads in a non-determinism message: the API call that produced it."""
        return self.of_action(action).describe(action)

    def describe_event(self, event: HistoryEvent) -> str:
        """How a recorded action reads in a non-determinism message."""
        kind = self.of_event(event)
        return kind.describe_event(event) if kind is not None else event.event_type.name

    def matches(self, action: object, event: HistoryEvent) -> bool:
        """Whether replayed code took the action history recorded at that sequence number."""
        kind = self.of_action(action)
        return self.of_event(event) is kind and kind.same_action(action, event)

    def deliver(self, event: HistoryEvent, origin: Origin) -> Delivery | None:
        """Where the message of a recorded action goes (None: the event records none)."""
        kind = self.of_event(event)
        if kind is None:
            return None
        return kind.deliver(kind.from_event(event), origin)


def _request_of(event: HistoryEvent) -> EntityRequest | None:
    """The entity request an EventSent carries, when it is one."""
    if not event.instance_id or not is_entity_id(event.instance_id):
        return None
    if not (event.name or "").startswith(ENTITY_OPERATION_EVENT):
        return None
    try:
        return EntityRequest.from_json(event.input)
    except SerializationError:
        return None


def _operation_of(event: HistoryEvent) -> str:
    request = _request_of(event)
    return (request.operation if request is not None else None) or ""


def _entity_kinds() -> list[ActionKind[Any]]:
    def is_call(e: HistoryEvent) -> bool:
        r = _request_of(e)
        return r is not None and not r.signal and not r.is_lock_request

    def is_signal(e: HistoryEvent) -> bool:
        r = _request_of(e)
        return r is not None and r.signal

    def is_lock(e: HistoryEvent) -> bool:
        r = _request_of(e)
        return r is not None and r.is_lock_request

    def is_release(e: HistoryEvent) -> bool:
        return e.name == RELEASE_EVENT and is_entity_id(e.instance_id or "")

    def lockset(e: HistoryEvent) -> tuple[str, ...]:
        r = _request_of(e)
        return r.lockset or () if r is not None else ()

    def same_operation(a: Any, e: HistoryEvent) -> bool:
        return bool(a.instance_id == e.instance_id and a.operation == _operation_of(e))

    return [
        send_event_kind(
            name="call_entity",
            action_type=CallEntity,
            recognizes=is_call,
            describe=lambda a: f"call_entity {a.instance_id} '{a.operation}'",
            describe_event=lambda e: f"EventSent call of '{_operation_of(e)}' to {e.instance_id}",
            same_action=same_operation,
            from_event=lambda e: CallEntity(
                e.event_id, e.instance_id or "", e.name or "", e.input, _operation_of(e)
            ),
        ),
        send_event_kind(
            name="signal_entity",
            action_type=SignalEntity,
            recognizes=is_signal,
            describe=lambda a: f"signal_entity {a.instance_id} '{a.operation}'",
            describe_event=lambda e: (
                f"EventSent signal of '{_operation_of(e)}' to {e.instance_id}"
            ),
            same_action=same_operation,
            from_event=lambda e: SignalEntity(
                e.event_id, e.instance_id or "", e.name or "", e.input, _operation_of(e),
                e.fire_at,
            ),
        ),
        send_event_kind(
            name="lock",
            action_type=LockEntities,
            recognizes=is_lock,
            describe=lambda a: f"lock {list(a.lockset)}",
            describe_event=lambda e: f"EventSent lock request for {list(lockset(e))}",
            same_action=lambda a, e: tuple(a.lockset) == lockset(e),
            from_event=lambda e: LockEntities(
                e.event_id, e.instance_id or "", e.name or "", e.input, lockset(e)
            ),
        ),
        send_event_kind(
            name="release_lock",
            action_type=ReleaseLock,
            recognizes=is_release,
            describe=lambda a: f"release the lock of {a.instance_id}",
            describe_event=lambda e: f"EventSent release to {e.instance_id}",
            same_action=lambda a, e: a.instance_id == e.instance_id,
            from_event=lambda e: ReleaseLock(
                e.event_id, e.instance_id or "", e.name or "", e.input
            ),
        ),
    ]


ACTION_KINDS = ActionKinds(
    [
        _http_kind(),  # before call_activity: both are recorded as TaskScheduled
        _activity_kind(),
        _timer_kind(),
        _sub_orchestration_kind(child_execution_id),
        *_entity_kinds(),
        _event_kind(),
    ]
)


def action_event(action: Action, timestamp: datetime) -> HistoryEvent:
    """The history event that records `action` having been taken."""
    return ACTION_KINDS.to_event(action, timestamp)


def action_from_event(event: HistoryEvent) -> object | None:
    """The action a committed history event records, or None."""
    return ACTION_KINDS.from_event(event)


def describe_action(action: Action) -> str:
    """How an action reads in a non-determinism message: the API call that produced it."""
    return ACTION_KINDS.describe(action)
