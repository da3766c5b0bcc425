"""call_*_with_retry: durable-timer backoff, give-up rules and Durable Task's history shape."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext, OrchestrationStatus, RetryOptions
from durable.core.actions import CreateSubOrchestration, CreateTimer, ScheduleTask
from tests.support.harness import T0, Harness, kinds

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def retrying(options: RetryOptions) -> Any:
    def orch(ctx: Ctx) -> Gen:
        try:
            return (yield ctx.call_activity_with_retry("flaky", options, {"n": 1}))
        except Exception as exc:
            return f"gave up: {exc}"

    return orch


def backoff_options() -> RetryOptions:
    options = RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=4)
    options.backoff_coefficient = 2
    return options


def timer_delays(h: Harness) -> list[timedelta]:
    """Each retry timer's fire time relative to the episode that created it."""
    delays = []
    for i, event in enumerate(h.history):
        if event.event_type.name == "TimerCreated":
            started = next(
                e for e in reversed(h.history[:i]) if e.event_type.name == "OrchestratorStarted"
            )
            assert event.fire_at is not None
            delays.append(event.fire_at - started.timestamp)
    return delays


def test_backoff_doubles_and_gives_up_after_last_attempt() -> None:
    h = Harness(retrying(backoff_options()))
    assert h.start().actions == [ScheduleTask(0, "flaky", '{"n": 1}')]
    episode_time = h.now
    retry = h.run(h.failed(0, "try 1"))
    assert retry.actions == [CreateTimer(1, episode_time + timedelta(seconds=1))]
    assert h.run(h.fired(1)).actions == [ScheduleTask(2, "flaky", '{"n": 1}')]
    h.run(h.failed(2, "try 2"))
    h.run(h.fired(3))
    h.run(h.failed(4, "try 3"))
    h.run(h.fired(5))
    at = h.now
    last = h.run(h.failed(6, "try 4"))
    # As Durable Task: after the last attempt one more timer, due at once, then the failure.
    assert last.actions == [CreateTimer(7, at)]
    done = h.run(h.fired(7))
    assert done.status is OrchestrationStatus.Completed
    assert done.output == '"gave up: try 4"'
    assert timer_delays(h) == [timedelta(seconds=s) for s in (1, 2, 4, 0)]
    # Durable Task's shape: TaskScheduled n, TaskFailed n, TimerCreated n+1, TimerFired n+1, ...
    shape = [
        k for k in kinds(h.history) if k not in ("OrchestratorStarted", "OrchestratorCompleted")
    ]
    assert shape == [
        "ExecutionStarted",
        "TaskScheduled",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "TaskScheduled",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "TaskScheduled",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "TaskScheduled",
        "TaskFailed",
        "TimerCreated",
        "TimerFired",
        "ExecutionCompleted",
    ]


def test_success_on_a_retry() -> None:
    h = Harness(retrying(backoff_options()))
    h.start()
    h.run(h.failed(0))
    h.run(h.fired(1))
    assert h.run(h.completed(2, "finally")).output == '"finally"'


def test_max_retry_interval_caps_the_delay() -> None:
    options = RetryOptions(1000, 4)
    options.backoff_coefficient = 10
    options.max_retry_interval_in_milliseconds = 5000
    h = Harness(retrying(options))
    h.start()
    for attempt in range(3):
        h.run(h.failed(attempt * 2))
        h.run(h.fired(attempt * 2 + 1))
    assert timer_delays(h) == [timedelta(seconds=s) for s in (1, 5, 5)]


def test_retry_timeout_stops_retrying() -> None:
    options = RetryOptions(1000, 10)
    options.retry_timeout_in_milliseconds = 30_000
    h = Harness(retrying(options))
    h.start()  # first attempt at T0
    h.now = T0 + timedelta(seconds=10)
    assert h.run(h.failed(0)).actions == [CreateTimer(1, T0 + timedelta(seconds=11))]
    h.run(h.fired(1))
    h.now = T0 + timedelta(seconds=30)  # the timeout has elapsed since the first attempt
    done = h.run(h.failed(2, "too late"))
    assert done.output == '"gave up: too late"'
    assert done.actions == []


def test_non_retriable_failure_is_not_retried() -> None:
    h = Harness(retrying(backoff_options()))
    h.start()
    done = h.run(h.failed(0, "fatal", non_retriable=True))
    assert done.output == '"gave up: fatal"'


def test_sub_orchestrator_with_retry_uses_new_child_per_attempt() -> None:
    def orch(ctx: Ctx) -> Gen:
        return (yield ctx.call_sub_orchestrator_with_retry("child", RetryOptions(500, 2), "in"))

    h = Harness(orch, instance_id="p")
    assert h.start().actions == [CreateSubOrchestration(0, "child", "p:0", '"in"')]
    h.run(h.sub_failed(0))
    again = h.run(h.fired(1))
    assert again.actions == [CreateSubOrchestration(2, "child", "p:2", '"in"')]
    assert h.run(h.sub_completed(2, 7)).output == "7"


def test_retries_survive_replay_with_a_fresh_executor() -> None:
    h = Harness(retrying(backoff_options()))
    h.start()
    h.run(h.failed(0))
    h.run(h.fired(1))
    replayed = h.replay()
    assert replayed.status is OrchestrationStatus.Running
    assert replayed.actions == []


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ((0, 3), "first_retry_interval_in_milliseconds"),
        ((100, 0), "max_number_of_attempts"),
        (("1", 3), "first_retry_interval_in_milliseconds"),
        ((100, 2.5), "max_number_of_attempts"),
    ],
)
def test_retry_options_validate_arguments(args: tuple[Any, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        RetryOptions(*args)


def test_retry_options_settable_fields_are_validated() -> None:
    options = RetryOptions(100, 3)
    assert options.backoff_coefficient == 1
    assert options.max_retry_interval_in_milliseconds is None
    assert options.retry_timeout_in_milliseconds is None
    with pytest.raises(ValueError, match="backoff_coefficient"):
        options.backoff_coefficient = 0
    with pytest.raises(ValueError, match="max_retry_interval_in_milliseconds"):
        options.max_retry_interval_in_milliseconds = -5
    with pytest.raises(ValueError, match="retry_timeout_in_milliseconds"):
        options.retry_timeout_in_milliseconds = 0
    options.retry_timeout_in_milliseconds = 60_000
    assert options.to_json() == {
        "firstRetryIntervalInMilliseconds": 100,
        "maxNumberOfAttempts": 3,
        "retryTimeoutInMilliseconds": 60_000,
    }


def test_next_delay_is_pure_arithmetic() -> None:
    options = RetryOptions(1000, 5)
    options.backoff_coefficient = 3
    first = datetime(2024, 1, 1)
    assert [options.next_delay(n, first, first) for n in range(1, 6)] == [
        timedelta(seconds=1),
        timedelta(seconds=3),
        timedelta(seconds=9),
        timedelta(seconds=27),
        None,
    ]
    huge = RetryOptions(1000, 10_000)
    huge.backoff_coefficient = 10
    assert huge.next_delay(5000, first, first) == timedelta(days=6)


def test_call_activity_with_retry_rejects_bad_options() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_activity_with_retry("a", {"first": 1})  # type: ignore[arg-type]

    result = Harness(orch).start()
    assert result.status is OrchestrationStatus.Failed
    assert result.failure_details is not None
    assert "retry_options must be a RetryOptions" in result.failure_details.error_message
