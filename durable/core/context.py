"""`DurableOrchestrationContext`: the object an orchestrator receives.

It has the names and argument names of the Durable Functions Python SDK, so orchestrators
written for it run here unchanged. Every call is deterministic: it depends only on history
and on the order of calls, never on the clock, randomness or I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from durable.core import replay_state as st
from durable.core.actions import (
    HTTP_ACTIVITY_NAME,
    CallEntity,
    CallHttp,
    CreateSubOrchestration,
    CreateTimer,
    LockEntities,
    ReleaseLock,
    ScheduleTask,
    SignalEntity,
)
from durable.core.critical import CriticalSection, violation
from durable.core.entities import (
    ENTITY_OPERATION_EVENT,
    RELEASE_EVENT,
    EntityCallTask,
    EntityId,
    EntityRequest,
    LockRelease,
    LockTask,
)
from durable.core.history import HistoryEvent
from durable.core.http import DurableHttpRequest, DurableHttpResponse, TokenSource, http_content
from durable.core.http_task import HttpTask
from durable.core.registry import DurableKind, function_name, return_type_of
from durable.core.retry import RetryOptions
from durable.core.serialization import dumps, loads
from durable.core.task import (
    AtomicTask,
    RetryableTask,
    Task,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

# The SDK derives new_uuid() from this namespace; keep it so ids match across implementations.
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _utc(fire_at: object) -> datetime:
    if not isinstance(fire_at, datetime):
        raise ValueError(f"fire_at must be a datetime, got {type(fire_at).__name__}")
    if fire_at.tzinfo is None:
        return fire_at.replace(tzinfo=UTC)
    return fire_at.astimezone(UTC)


class DurableOrchestrationContext:
    """What an orchestrator function receives. Created by the replay engine."""

    def __init__(self, state: st.ReplayState) -> None:
        self._state = state
        self._custom_status: Any = None
        self._custom_status_set = False

    # --- facts about this execution ------------------------------------------------------

    @property
    def instance_id(self) -> str:
        """The id of the orchestration instance."""
        return self._state.instance_id

    @property
    def parent_instance_id(self) -> str | None:
        """The id of the parent, for a sub-orchestration (None for a top-level one)."""
        parent = self._state.parent
        return parent.instance_id if parent is not None else None

    @property
    def function_name(self) -> str:
        """The orchestrator function's registered name."""
        return self._state.name

    @property
    def version(self) -> str | None:
        """The version the instance was started with (None if unversioned)."""
        return self._state.version

    @property
    def is_replaying(self) -> bool:
        """True exactly while the code is re-running steps already recorded in history."""
        return self._state.is_replaying

    @property
    def current_utc_datetime(self) -> datetime:
        """The time the current episode started (timezone-aware UTC); the same on replay."""
        return self._state.current_utc_datetime

    @property
    def histories(self) -> list[HistoryEvent]:
        """The history events processed so far in this replay."""
        return list(self._state.history)

    @property
    def will_continue_as_new(self) -> bool:
        """Whether `continue_as_new` was called in this execution."""
        return self._state.will_continue_as_new

    @property
    def custom_status(self) -> Any:
        """The custom status set last (or carried over from the previous execution)."""
        if not self._custom_status_set:
            return loads(self._state.custom_status_json)
        return self._custom_status

    def get_input(self, expected_type: type | None = None) -> Any:
        """The orchestration's input, decoded from JSON.

        It is decoded as `expected_type`, else as the trigger's `input_type=`, when given.
        """
        return loads(self._state.input_json, expected_type or self._state.input_type)

    # --- scheduling work -----------------------------------------------------------------
    # Each call returns a task that takes its sequence number and its action when it is
    # first yielded (the SDK's rule; see task.py). Arguments are checked at the call.

    def call_activity(
        self, name: Any, input_: Any = None, expected_type: type | None = None
    ) -> Task[Any]:
        """Schedule activity `name` (or the activity function itself) with `input_`.

        The result is decoded as `expected_type`, else as the activity's return annotation.
        """
        activity = function_name(name, "name", DurableKind.ACTIVITY, "call_activity")
        task = self._activity(activity, dumps(input_, f"input of activity '{activity}'"))
        task._expected_output_type = expected_type or return_type_of(name)
        return task

    def call_activity_with_retry(
        self,
        name: Any,
        retry_options: RetryOptions,
        input_: Any = None,
        expected_type: type | None = None,
    ) -> Task[Any]:
        """Schedule an activity, retried on failure as `retry_options` says."""
        activity = function_name(name, "name", DurableKind.ACTIVITY, "call_activity_with_retry")
        _check_retry_options(retry_options)
        input_json = dumps(input_, f"input of activity '{activity}'")
        task = self._retrying(retry_options, lambda: self._activity(activity, input_json))
        task._expected_output_type = expected_type or return_type_of(name)
        return task

    def call_sub_orchestrator(
        self,
        name: Any,
        input_: Any = None,
        instance_id: str | None = None,
        version: str | None = None,
        expected_type: type | None = None,
    ) -> Task[Any]:
        """Start orchestrator `name` as a child of this one and wait for its output.

        The child runs as orchestration `version`, else as host.json `defaultVersion` (not
        this instance's version), as in Durable Functions.

        Without `instance_id` the child is "{this instance id}:{sequence number}": the same
        on every replay and readable in tools. Durable Task bases it on the execution id
        instead; with this scheme a later generation (after continue_as_new) reuses the ids
        of earlier generations' children, so pass explicit ids if those may overlap.
        """
        orchestrator = function_name(
            name, "name", DurableKind.ORCHESTRATOR, "call_sub_orchestrator"
        )
        _check_instance_id(instance_id)
        _check_version(version)
        input_json = dumps(input_, f"input of sub-orchestrator '{orchestrator}'")
        task = self._sub_orchestration(orchestrator, input_json, instance_id, version)
        task._expected_output_type = expected_type or return_type_of(name)
        return task

    def call_sub_orchestrator_with_retry(
        self,
        name: Any,
        retry_options: RetryOptions,
        input_: Any = None,
        instance_id: str | None = None,
        version: str | None = None,
        expected_type: type | None = None,
    ) -> Task[Any]:
        """Start a sub-orchestration, started again on failure as `retry_options` says."""
        orchestrator = function_name(
            name, "name", DurableKind.ORCHESTRATOR, "call_sub_orchestrator_with_retry"
        )
        _check_retry_options(retry_options)
        _check_instance_id(instance_id)
        _check_version(version)
        input_json = dumps(input_, f"input of sub-orchestrator '{orchestrator}'")
        task = self._retrying(
            retry_options,
            lambda: self._sub_orchestration(orchestrator, input_json, instance_id, version),
        )
        task._expected_output_type = expected_type or return_type_of(name)
        return task

    def call_http(
        self,
        method: str,
        uri: str,
        content: Any = None,
        headers: dict[str, str] | None = None,
        token_source: TokenSource | None = None,
        is_raw_str: bool = False,
        *,
        asynchronous_pattern_enabled: bool = True,
        timeout: timedelta | None = None,
    ) -> Task[DurableHttpResponse]:
        """A durable HTTP request; the yield gives its `DurableHttpResponse`.

        `content` is sent as JSON (`json.dumps`), a str with `is_raw_str=True` as it is. A
        202 with a Location header is polled on durable timers until another status comes
        (unless `asynchronous_pattern_enabled=False`); an error status is a response, not an
        exception. A bad `method` or `uri` raises InvalidHttpRequestError here.
        """
        request = DurableHttpRequest(
            method, uri, http_content(content, is_raw_str), headers, token_source,
            asynchronous_pattern_enabled=asynchronous_pattern_enabled, timeout=timeout,
        )
        return HttpTask(request, self._http_request, self.create_timer,
                        lambda: self._state.current_utc_datetime,
                        lambda: self._state.http_poll_interval)

    def create_timer(self, fire_at: datetime) -> TimerTask:
        """A durable timer; a naive `fire_at` is taken as UTC."""
        when = _utc(fire_at)

        def schedule(task: AtomicTask) -> None:
            self._state.bind(task, lambda seq: CreateTimer(seq, when), st.TIMER_COMPLETIONS,
                             describe=lambda seq: f"timer #{seq} at {when.isoformat()}")

        return TimerTask(None, when, schedule)

    def wait_for_external_event(self, name: str, expected_type: type | None = None) -> Task[Any]:
        """A task completed by the next event `name` raised on this instance.

        It waits from the moment it is yielded; an event raised earlier waits for it.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty event name, got {name!r}")
        def schedule(task: AtomicTask) -> None:
            self._state.wait_for_event(name, task)

        task = AtomicTask(name, f"external event '{name}'", schedule)
        task._expected_output_type = expected_type
        return task

    def task_all(self, activities: Sequence[Task[Any]]) -> Task[list[Any]]:
        """A task completed when every task is (fan-in), with their results in order."""
        return WhenAllTask(activities)

    def task_any(self, activities: Sequence[Task[Any]]) -> Task[Task[Any]]:
        """A task completed by the first of the tasks to complete.

        Its result is that task (None for no tasks at all, as in the SDK).
        """
        return WhenAnyTask(activities)

    # --- entities ------------------------------------------------------------------------

    def call_entity(
        self,
        entityId: EntityId,  # noqa: N803 (the SDK's argument names)
        operationName: str,  # noqa: N803
        operationInput: Any = None,  # noqa: N803
        expected_type: type | None = None,
    ) -> Task[Any]:
        """Call operation `operationName` of an entity and wait for its result.

        A failed operation raises `TaskFailedError` at the `yield`, with the operation's
        error type and message.
        """
        target, input_json = self._entity_request_parts(entityId, operationName, operationInput)
        section = self._held_section()
        if section is not None:
            if target not in section.entities:
                raise violation(f"call_entity to {target}, which this critical section did not "
                                "lock")
            if target in section.calling:
                raise violation(f"a second call to {target} while one to it is in flight")

        def schedule(task: AtomicTask) -> None:
            request_id = ""

            def call(seq: int) -> CallEntity:
                nonlocal request_id
                request_id = self._request_id(seq)
                request = EntityRequest(request_id, operationName, False, input_json,
                                        self.instance_id, self._state.execution_id,
                                        predecessor=self._state.predecessor_of(target, seq))
                return CallEntity(seq, target, ENTITY_OPERATION_EVENT, request.to_json(),
                                  operationName)

            if self._state.bind(task, call, st.NO_COMPLETION) >= 0:
                self._state.wait_for_event(request_id, task)

        task = EntityCallTask(None, f"entity operation '{operationName}' on {target}",
                              schedule)
        task._expected_output_type = expected_type
        if section is not None:
            section.calling.add(target)
            task._add_done_callback(lambda _t: section.calling.discard(target))
        return task

    def signal_entity(
        self,
        entityId: EntityId,  # noqa: N803
        operationName: str,  # noqa: N803
        operationInput: Any = None,  # noqa: N803
        *,
        scheduled_time: datetime | None = None,
    ) -> None:
        """Send operation `operationName` to an entity without waiting for it.

        With `scheduled_time` the entity runs it at that time (a durable, delayed message).
        It is sent at the call (there is nothing to yield), as in the SDK.
        """
        target, input_json = self._entity_request_parts(entityId, operationName, operationInput)
        section = self._held_section()
        if section is not None and target in section.entities:
            raise violation(f"signal_entity to {target}, which this critical section locked")
        due = _utc(scheduled_time) if scheduled_time is not None else None

        def signal(seq: int) -> SignalEntity:
            # A scheduled signal waits for its time, not for its predecessor.
            before = self._state.predecessor_of(target, seq) if due is None else None
            request = EntityRequest(self._request_id(seq), operationName, True, input_json,
                                    self.instance_id, self._state.execution_id, due=due,
                                    predecessor=before)
            name = ENTITY_OPERATION_EVENT
            if due is not None:
                name = f"{ENTITY_OPERATION_EVENT}@{request.to_dict()['due']}"
            return SignalEntity(seq, target, name, request.to_json(), operationName, due)

        self._state.record(signal)

    def lock(self, entities: Sequence[EntityId]) -> Task[CriticalSection]:
        """Acquire the locks of `entities` (a critical section).

        The yield gives the section, to use as `with (yield context.lock([a, b])):`; it
        gives the locks back when the block ends.
        """
        if self._held_section() is not None:
            raise violation("lock() inside a critical section (sections cannot be nested)")
        ids = sorted({str(_entity_arg(e)) for e in entities})
        if not ids:
            raise ValueError("lock() needs at least one EntityId")

        def schedule(task: AtomicTask) -> None:
            assert isinstance(task, LockTask)

            def lock(seq: int) -> LockEntities:
                task.request_id = self._request_id(seq)
                request = EntityRequest(task.request_id, None, False, None, self.instance_id,
                                        self._state.execution_id, lockset=tuple(ids),
                                        predecessor=self._state.predecessor_of(ids[0], seq))
                return LockEntities(seq, ids[0], ENTITY_OPERATION_EVENT, request.to_json(),
                                    tuple(ids))

            if self._state.bind(task, lock, st.NO_COMPLETION) >= 0:
                self._state.wait_for_event(task.request_id, task)

        return LockTask(tuple(ids), self._enter_section, schedule)

    def _held_section(self) -> CriticalSection | None:
        section = self._state.section
        return section if section is not None and not section.released else None

    def _enter_section(self, section: CriticalSection) -> None:
        section._release = self._release_section
        self._state.section = section

    def _release_section(self, section: CriticalSection) -> None:
        if section.released:
            return
        section.released = True
        if self._state.section is section:
            self._state.section = None
        release = LockRelease(self.instance_id, section.lock_id).to_json()
        for entity in section.entities:
            self._state.record(_release_action(entity, release), force=True)

    def _entity_request_parts(
        self, entity_id: object, operation: object, operation_input: Any
    ) -> tuple[str, str]:
        target = str(_entity_arg(entity_id))
        if not isinstance(operation, str) or not operation:
            raise ValueError(f"operationName must be a non-empty string, got {operation!r}")
        return target, dumps(operation_input, f"input of entity operation '{operation}'")

    # --- the execution as a whole --------------------------------------------------------

    def continue_as_new(self, input_: Any) -> None:
        """Finish this execution and start a fresh one with `input_` and an empty history.

        That happens once the orchestrator next yields or returns; calls after this one are
        ignored.
        """
        self._state.continue_as_new_input = dumps(input_, "input of continue_as_new")
        self._state.will_continue_as_new = True

    def set_custom_status(self, status: Any) -> None:
        """Publish `status` (any JSON value) in the instance's status, for clients to read."""
        self._state.custom_status_json = dumps(status, "custom status")
        self._custom_status, self._custom_status_set = status, True

    def new_uuid(self) -> str:
        """A UUID that is the same on every replay (derived as the SDK derives it)."""
        stamp = self.current_utc_datetime.strftime(_DATETIME_FORMAT)
        name = f"{self.instance_id}_{stamp}_{self._next_uuid_counter()}"
        return str(uuid.uuid5(_UUID_NAMESPACE, name))

    def new_guid(self) -> uuid.UUID:
        """The SDK's older variant; shares new_uuid's counter."""
        name = f"{self.instance_id}_{self.current_utc_datetime}_{self._next_uuid_counter()}"
        return uuid.uuid5(uuid.NAMESPACE_URL, name)

    # --- helpers -------------------------------------------------------------------------

    def _next_uuid_counter(self) -> int:
        counter = self._state.uuid_counter
        self._state.uuid_counter += 1
        return counter

    def _request_id(self, seq: int) -> str:
        """The id of the entity request sent as action `seq`.

        Fixed by the execution and the sequence number, so a replay sends the same id (and
        takes nothing from the counter of `new_uuid`, as the SDK takes nothing).
        """
        name = f"{self.instance_id}:{self._state.execution_id or ''}:{seq}"
        return str(uuid.uuid5(_UUID_NAMESPACE, name))

    def _activity(self, name: str, input_json: str) -> AtomicTask:
        def schedule(task: AtomicTask) -> None:
            self._state.bind(task, lambda seq: ScheduleTask(seq, name, input_json),
                             st.TASK_COMPLETIONS,
                             describe=lambda seq: f"activity '{name}' (#{seq})")

        return AtomicTask(None, f"activity '{name}'", schedule)

    def _http_request(self, request: DurableHttpRequest) -> AtomicTask:
        input_json = request.activity_input()
        label = f"call_http {request.method} {request.uri}"

        def schedule(task: AtomicTask) -> None:
            self._state.bind(
                task,
                lambda seq: CallHttp(seq, HTTP_ACTIVITY_NAME, input_json, request.method,
                                     request.uri),
                st.TASK_COMPLETIONS,
                describe=lambda seq: f"{label} (#{seq})",
            )

        return AtomicTask(None, label, schedule,
                          decode=lambda text, _type: DurableHttpResponse.from_json(text))

    def _sub_orchestration(
        self, name: str, input_json: str, instance_id: str | None, version: str | None = None
    ) -> AtomicTask:
        if self._held_section() is not None:
            raise violation(f"call_sub_orchestrator '{name}' inside a critical section")

        # Default child id: "{parent instance id}:{sequence number}", deterministic per call.
        def child_id(seq: int) -> str:
            return instance_id if instance_id is not None else f"{self.instance_id}:{seq}"

        def schedule(task: AtomicTask) -> None:
            self._state.bind(
                task,
                lambda seq: CreateSubOrchestration(
                    seq, name, child_id(seq), input_json, version or self._state.default_version
                ),
                st.SUB_ORCHESTRATION_COMPLETIONS,
                describe=lambda seq: f"sub-orchestrator '{name}' ('{child_id(seq)}')",
            )

        return AtomicTask(None, f"sub-orchestrator '{name}'", schedule)

    def _retrying(self, options: RetryOptions, attempt: Any) -> RetryableTask:
        return RetryableTask(
            options, attempt, self.create_timer, lambda: self._state.current_utc_datetime
        )


def _check_retry_options(retry_options: object) -> None:
    if not isinstance(retry_options, RetryOptions):
        raise ValueError(f"retry_options must be a RetryOptions, got {retry_options!r}")


def _check_instance_id(instance_id: object) -> None:
    if instance_id is None:
        return
    if not isinstance(instance_id, str) or not instance_id or instance_id.startswith("@"):
        raise ValueError(
            f"instance_id must be a non-empty string not starting with '@', got {instance_id!r}"
        )


def _check_version(version: object) -> None:
    if version is not None and not isinstance(version, str):
        raise ValueError(f"version must be a string such as '1.0' or None, got {version!r}")


def _entity_arg(value: object) -> EntityId:
    if not isinstance(value, EntityId):
        raise ValueError(f"entityId must be an EntityId, got {value!r}")
    return value


def _release_action(entity: str, release: str) -> Callable[[int], ReleaseLock]:
    return lambda seq: ReleaseLock(seq, entity, RELEASE_EVENT, release)
