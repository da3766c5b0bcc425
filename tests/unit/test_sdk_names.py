"""The last SDK 1.7 names: `durable.models` re-exports and small classes, the compatibility
warning, `orchestrator_generator_wrapper`, and `DurableOrchestrationStatus` positionally."""

from __future__ import annotations

import json
import warnings
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import Mock, PropertyMock

import pytest

import durable as df
import durable.client
import durable.models
import durable.testing
from durable.client.entity_operations import EntityStateResponse
from durable.core.task import AtomicTask, RetryableTask, WhenAllTask
from durable.errors import SerializationError, StatusFormatError
from durable.models import DurableOrchestrationContext
from durable.models.entities import RequestMessage, Signal
from durable.models.history import HistoryEvent, HistoryEventType
from durable.models.Task import RetryAbleTask
from durable.testing import orchestrator_generator_wrapper, run_orchestrator

Gen = Generator[Any, Any, Any]


# --- durable.models -----------------------------------------------------------------------


def test_models_re_export_the_client_classes_and_task_base() -> None:
    assert durable.models.DurableOrchestrationClient is df.DurableOrchestrationClient
    assert durable.models.PurgeHistoryResult is durable.client.PurgeHistoryResult
    assert durable.models.EntityStateResponse is EntityStateResponse
    assert durable.models.TaskBase is df.Task
    assert RetryAbleTask is RetryableTask
    for name in ("DurableOrchestrationClient", "PurgeHistoryResult", "EntityStateResponse",
                 "TaskBase"):
        assert name in durable.models.__all__


def test_every_task_an_orchestrator_yields_is_a_task_base() -> None:
    seen: list[Any] = []

    def orch(context: df.DurableOrchestrationContext) -> Gen:
        first = context.call_activity("a", 1)
        both = context.task_all([context.call_activity("a", 2), context.call_activity("a", 3)])
        seen.extend([first, both])
        yield first
        return (yield both)

    run = run_orchestrator(orch, activities={"a": lambda v: v * 10})
    assert run.output == [20, 30]
    assert isinstance(seen[0], AtomicTask) and isinstance(seen[1], WhenAllTask)
    assert all(isinstance(task, durable.models.TaskBase) for task in seen)


def test_purge_history_result_reads_the_purge_body_as_the_sdk_does() -> None:
    result = durable.models.PurgeHistoryResult.from_json({"instancesDeleted": 3, "extra": "x"})
    assert result.instances_deleted == 3
    assert result.extra == "x"  # type: ignore[attr-defined]
    assert result.to_json() == {"instancesDeleted": 3}
    assert durable.models.PurgeHistoryResult(instancesDeleted=0).instances_deleted == 0


def test_entity_state_response_is_the_sdk_shape() -> None:
    found = EntityStateResponse(True, {"count": 2})
    assert found.entity_exists and found.entity_state == {"count": 2}
    missing = EntityStateResponse(False)
    assert not missing.entity_exists and missing.entity_state is None


# --- durable.models.history ---------------------------------------------------------------


def test_history_event_has_the_sdk_constructor_and_properties() -> None:
    event = HistoryEvent(EventType=HistoryEventType.TASK_SCHEDULED, EventId=3, IsPlayed=True,
                         Timestamp="2024-06-01T08:00:01.500000Z", Name="say", Result='"hi"')
    assert event.event_type is HistoryEventType.TASK_SCHEDULED
    assert event.event_id == 3 and event.is_played is True
    assert event.timestamp == datetime(2024, 6, 1, 8, 0, 1, 500000, tzinfo=UTC)
    assert event.Name == "say"  # type: ignore[attr-defined]
    assert event.Result == '"hi"'  # type: ignore[attr-defined]
    # The attributes the SDK gives every event are there, None when not given.
    for name in ("InstanceId", "TaskScheduledId", "Reason", "Details", "Input"):
        assert getattr(event, name) is None
    assert event.is_processed is False
    event.is_processed = True
    assert event.is_processed is True
    assert HistoryEvent(5, 1, False, "2024-06-01T08:00:00Z").event_type is (
        HistoryEventType.TASK_COMPLETED)


def test_history_events_feed_the_context_and_the_orchestrator() -> None:
    """A history built from HistoryEvent objects, as the SDK's tests build one."""
    start = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)

    def at(kind: HistoryEventType, second: int, **fields: Any) -> HistoryEvent:
        stamp = (start + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return HistoryEvent(EventType=kind, EventId=fields.pop("EventId", -1), IsPlayed=False,
                            Timestamp=stamp, **fields)

    events = [
        at(HistoryEventType.ORCHESTRATOR_STARTED, 0),
        at(HistoryEventType.EXECUTION_STARTED, 0, Name="orch", Input='"Oslo"'),
        at(HistoryEventType.TASK_SCHEDULED, 1, EventId=0, Name="hello"),
        at(HistoryEventType.ORCHESTRATOR_COMPLETED, 1),
        at(HistoryEventType.ORCHESTRATOR_STARTED, 2),
        at(HistoryEventType.TASK_COMPLETED, 2, TaskScheduledId=0, Result='"Hello Oslo"'),
    ]
    body = [e.to_json() for e in events]
    assert body[2] == {"EventType": 4, "EventId": 0, "IsPlayed": False,
                       "Timestamp": "2024-06-01T08:00:01.000000Z", "Name": "hello"}
    again = HistoryEvent.from_json(body[5])
    assert again.event_type is HistoryEventType.TASK_COMPLETED
    assert again.TaskScheduledId == 0  # type: ignore[attr-defined]

    def orch(context: df.DurableOrchestrationContext) -> Gen:
        return (yield context.call_activity("hello", context.get_input()))

    context = DurableOrchestrationContext.from_json(
        json.dumps({"history": body, "instanceId": "i-1", "isReplaying": False}))
    assert context.current_utc_datetime == start
    state = json.loads(df.Orchestrator(orch).handle(context))
    assert state["isDone"] is True and state["output"] == "Hello Oslo"


# --- durable.models.entities --------------------------------------------------------------


def test_request_message_reads_the_request_json() -> None:
    text = json.dumps({"id": "r-1", "name": "add", "signal": True, "input": "5",
                       "parent": "orch-1", "pos": 0, "unknown": "ignored"})
    message = RequestMessage.from_json(text)
    assert (message.id, message.name, message.signal) == ("r-1", "add", True)
    assert message.input == "5" and message.parent == "orch-1" and message.pos == 0
    assert message.arg is None and message.lockset is None
    assert not hasattr(message, "unknown")
    built = RequestMessage("r-2", name="get", lockset=[df.EntityId("counter", "a")])
    assert built.id == "r-2" and built.input is None
    assert built.lockset == [df.EntityId("counter", "a")]


@pytest.mark.parametrize("text", ["not json", "[1]", '{"name": "add"}'])
def test_request_message_names_a_bad_request(text: str) -> None:
    with pytest.raises(SerializationError, match="'id' member"):
        RequestMessage.from_json(text)


def test_signal_is_the_sdk_shape() -> None:
    target = df.EntityId("counter", "k")
    signal = Signal(target, "add", "1")
    assert (signal.target, signal.name, signal.input) == (target, "add", "1")
    assert durable.models.entities.__all__ == [
        "EntityState", "OperationResult", "RequestMessage", "Signal"]


# --- DurableFunctionsCompatibilityWarning -------------------------------------------------


def test_compatibility_warning_is_a_user_warning_that_filters_work_with() -> None:
    assert issubclass(df.DurableFunctionsCompatibilityWarning, UserWarning)
    assert "DurableFunctionsCompatibilityWarning" in df.__all__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=df.DurableFunctionsCompatibilityWarning)
        warnings.warn("v1 model", df.DurableFunctionsCompatibilityWarning, stacklevel=1)
        warnings.warn("other", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["other"]


# --- orchestrator_generator_wrapper -------------------------------------------------------


def _chain(context: Any) -> Gen:
    first = yield context.call_activity("hello", "Tokyo")
    try:
        second = yield context.call_activity("hello", "Seattle")
    except ValueError as error:
        second = f"caught {error}"
    return [first, second]


def test_wrapper_yields_each_task_then_the_output() -> None:
    context = Mock()
    context.call_activity = Mock(side_effect=lambda name, city: Mock(result=f"Hi {city}"))
    steps = list(orchestrator_generator_wrapper(_chain(context)))
    assert len(steps) == 3
    assert steps[0].result == "Hi Tokyo" and steps[1].result == "Hi Seattle"
    assert steps[-1] == ["Hi Tokyo", "Hi Seattle"]
    assert [c.args for c in context.call_activity.call_args_list] == [
        ("hello", "Tokyo"), ("hello", "Seattle")]


def test_wrapper_throws_a_failing_result_into_the_orchestrator() -> None:
    failing = Mock()
    type(failing).result = PropertyMock(side_effect=ValueError("boom"))
    context = Mock()
    context.call_activity = Mock(side_effect=[Mock(result="Hi Tokyo"), failing])
    steps = list(orchestrator_generator_wrapper(_chain(context)))
    assert steps[-1] == ["Hi Tokyo", "caught boom"]


def test_wrapper_throws_a_faulted_task_as_replay_does() -> None:
    done, faulted = AtomicTask(0, "call"), AtomicTask(1, "call")
    done._set_result("Hi Tokyo")
    faulted._set_exception(ValueError("no Seattle"))
    context = Mock()
    context.call_activity = Mock(side_effect=[done, faulted])
    assert list(orchestrator_generator_wrapper(_chain(context)))[-1] == [
        "Hi Tokyo", "caught no Seattle"]


def test_wrapper_lets_an_uncaught_error_out() -> None:
    def orch(context: Any) -> Gen:
        yield context.call_activity("a")
        return "never"

    failing = Mock()
    type(failing).result = PropertyMock(side_effect=LookupError("a failed"))
    context = Mock(call_activity=Mock(return_value=failing))
    wrapper = orchestrator_generator_wrapper(orch(context))
    assert next(wrapper) is failing
    with pytest.raises(LookupError, match="a failed"):
        next(wrapper)


def test_wrapper_of_an_orchestrator_that_never_yields_gives_its_output() -> None:
    def orch(_context: Any) -> Gen:
        return "at once"
        yield  # a generator all the same

    assert list(orchestrator_generator_wrapper(orch(Mock()))) == ["at once"]
    assert "orchestrator_generator_wrapper" in durable.testing.__all__


# --- DurableOrchestrationStatus, positionally ---------------------------------------------


def test_status_positional_arguments_are_read_as_the_sdk_reads_them() -> None:
    status = df.DurableOrchestrationStatus(
        "hello", "abc", "2024-05-01T10:00:00Z", "2024-05-01T10:00:05.250+02:00",
        {"a": 1}, [1, 2], "Completed", "step 2", [{"EventType": "ExecutionStarted"}],
    )
    assert status
    assert status.name == "hello" and status.instance_id == "abc"
    assert status.created_time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert status.last_updated_time == datetime(2024, 5, 1, 8, 0, 5, 250000, tzinfo=UTC)
    assert status.runtime_status is df.OrchestrationRuntimeStatus.Completed
    assert status.input_ == {"a": 1} and status.output == [1, 2]
    assert status.custom_status == "step 2"
    assert status.history == [{"EventType": "ExecutionStarted"}]
    naive = df.DurableOrchestrationStatus(created_time="2024-05-01T10:00:00",
                                          runtime_status="Running")
    assert naive.created_time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert naive.runtime_status is df.OrchestrationRuntimeStatus.Running


def test_status_keeps_datetimes_and_enums_as_given() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    status = df.DurableOrchestrationStatus(
        None, "x", moment, moment, None, None, df.OrchestrationRuntimeStatus.Suspended)
    assert status.created_time is moment
    assert status.runtime_status is df.OrchestrationRuntimeStatus.Suspended


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((None, "x", "yesterday"), "ISO 8601"),
        ((None, "x", None, "2024-13-01T00:00:00Z"), "ISO 8601"),
        ((None, "x", None, None, None, None, "Sleeping"), "not a runtime status"),
    ],
)
def test_status_names_a_bad_time_or_status(arguments: tuple[Any, ...], message: str) -> None:
    with pytest.raises(StatusFormatError, match=message):
        df.DurableOrchestrationStatus(*arguments)
    with pytest.raises(ValueError):  # as the SDK's parsers raise
        df.DurableOrchestrationStatus(*arguments)
