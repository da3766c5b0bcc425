"""Replay of the common orchestration patterns, one episode at a time."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core.actions import CreateTimer, ScheduleTask
from durable.core.history import EventType
from durable.errors import TaskFailedError
from tests.support.harness import T0, Harness, kinds

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def chain(ctx: Ctx) -> Gen:
    a = yield ctx.call_activity("say_hello", "Tokyo")
    b = yield ctx.call_activity("say_hello", "Seattle")
    return [a, b]


def test_chaining_history_shape_matches_durable_task() -> None:
    h = Harness(chain)
    first = h.start()
    assert first.status is OrchestrationStatus.Running
    assert first.actions == [ScheduleTask(0, "say_hello", '"Tokyo"')]
    assert kinds(first.new_history) == [
        "OrchestratorStarted",
        "ExecutionStarted",
        "TaskScheduled",
        "OrchestratorCompleted",
    ]
    second = h.run(h.completed(0, "Hello Tokyo"))
    assert second.actions == [ScheduleTask(1, "say_hello", '"Seattle"')]
    third = h.run(h.completed(1, "Hello Seattle"))
    assert third.status is OrchestrationStatus.Completed
    assert third.output == '["Hello Tokyo", "Hello Seattle"]'
    assert kinds(third.new_history) == [
        "OrchestratorStarted",
        "TaskCompleted",
        "ExecutionCompleted",
        "OrchestratorCompleted",
    ]
    completed = third.new_history[2]
    assert completed.event_id == 2  # the completion action takes the next sequence number
    assert completed.orchestration_status is OrchestrationStatus.Completed
    scheduled = h.of_type(EventType.TaskScheduled)
    assert [(e.event_id, e.name, e.input) for e in scheduled] == [
        (0, "say_hello", '"Tokyo"'),
        (1, "say_hello", '"Seattle"'),
    ]


def test_input_reaches_orchestrator_and_output_is_json() -> None:
    def echo(ctx: Ctx) -> Gen:
        value = ctx.get_input()
        yield ctx.call_activity("noop")
        return {"got": value}

    h = Harness(echo, {"x": [1, 2]})
    h.start()
    assert h.run(h.completed(0)).output == '{"got": {"x": [1, 2]}}'


def test_plain_function_completes_at_once() -> None:
    def plain(ctx: Ctx) -> str:
        return f"hi {ctx.get_input()}"

    result = Harness(plain, "you").start()
    assert result.status is OrchestrationStatus.Completed
    assert result.output == '"hi you"'


def fallback(ctx: Ctx) -> Gen:
    try:
        return (yield ctx.call_activity("primary"))
    except Exception as exc:  # the SDK idiom
        return (yield ctx.call_activity("secondary", str(exc)))


def test_failure_is_catchable_with_original_message_and_type() -> None:
    seen: list[TaskFailedError] = []

    def orch(ctx: Ctx) -> Gen:
        try:
            yield ctx.call_activity("primary")
        except TaskFailedError as exc:
            seen.append(exc)
            return "handled"

    h = Harness(orch)
    h.start()
    result = h.run(h.failed(0, "disk full", "OSError"))
    assert result.output == '"handled"'
    error = seen[-1]
    assert str(error) == "disk full"
    assert (error.error_type, error.message) == ("OSError", "disk full")
    assert error.stack_trace == "Traceback: disk full"
    assert error.failure_details is not None and error.failure_details.error_type == "OSError"


def test_failure_with_fallback_activity() -> None:
    h = Harness(fallback)
    h.start()
    second = h.run(h.failed(0, "primary down"))
    assert second.actions == [ScheduleTask(1, "secondary", '"primary down"')]
    assert h.run(h.completed(1, "ok")).output == '"ok"'


def test_unhandled_activity_failure_fails_the_orchestration() -> None:
    h = Harness(chain)
    h.start()
    result = h.run(h.failed(0, "no greeting today"))
    assert result.status is OrchestrationStatus.Failed
    assert result.failure_details is not None
    assert result.failure_details.error_type == "TaskFailedError"
    assert result.failure_details.error_message == "no greeting today"
    assert "Caused by ValueError" in (result.failure_details.stack_trace or "")
    assert result.output == "\"Orchestrator function 'orch' failed: no greeting today\""
    completed = result.new_history[-2]
    assert completed.event_type is EventType.ExecutionCompleted
    assert completed.failure_details == result.failure_details


def test_orchestrator_exception_keeps_message_and_stack() -> None:
    def broken(ctx: Ctx) -> Gen:
        yield ctx.call_activity("a")
        raise KeyError("missing-thing")

    h = Harness(broken)
    h.start()
    result = h.run(h.completed(0))
    assert result.status is OrchestrationStatus.Failed
    details = result.failure_details
    assert details is not None and details.error_type == "KeyError"
    assert "missing-thing" in details.error_message
    assert "in broken" in (details.stack_trace or "")


def compensate(ctx: Ctx) -> Gen:
    booked = []
    try:
        booked.append((yield ctx.call_activity("book_flight")))
        booked.append((yield ctx.call_activity("book_hotel")))
        return booked
    except Exception:
        for booking in reversed(booked):
            yield ctx.call_activity("cancel", booking)
        return "rolled back"


def test_compensation_undoes_completed_steps() -> None:
    h = Harness(compensate)
    h.start()
    h.run(h.completed(0, "F1"))
    cancel = h.run(h.failed(1, "no rooms"))
    assert cancel.actions == [ScheduleTask(2, "cancel", '"F1"')]
    assert h.run(h.completed(2)).output == '"rolled back"'


def fan_out(ctx: Ctx) -> Gen:
    tasks = [ctx.call_activity("work", i) for i in range(20)]
    results = yield ctx.task_all(tasks)
    return sum(results)


def test_fan_out_fan_in_with_all_completions_in_one_episode() -> None:
    h = Harness(fan_out)
    first = h.start()
    assert [a.task_id for a in first.actions] == list(range(20))  # type: ignore[union-attr]
    done = h.run(*[h.completed(i, i * 10) for i in reversed(range(20))])
    assert done.status is OrchestrationStatus.Completed
    assert done.output == str(sum(i * 10 for i in range(20)))
    assert kinds(done.new_history).count("TaskCompleted") == 20


def test_fan_in_over_several_episodes_and_first_failure_wins() -> None:
    h = Harness(fan_out)
    h.start()
    assert h.run(*[h.completed(i, 1) for i in range(10)]).status is OrchestrationStatus.Running
    failed = h.run(h.failed(15, "item 15 broke"), h.completed(16, 1))
    assert failed.status is OrchestrationStatus.Failed
    assert failed.failure_details is not None
    assert failed.failure_details.error_message == "item 15 broke"
    # events after the execution ended in the same batch are not recorded
    assert failed.ignored_events and failed.ignored_events[0].task_scheduled_id == 16


def test_task_all_of_nothing_completes_at_once() -> None:
    def orch(ctx: Ctx) -> Gen:
        return (yield ctx.task_all([]))

    assert Harness(orch).start().output == "[]"


def race(ctx: Ctx) -> Gen:
    deadline = ctx.current_utc_datetime + timedelta(minutes=30)
    timeout = ctx.create_timer(deadline)
    approval = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([approval, timeout])
    if winner == approval:
        timeout.cancel()
        return f"approved:{approval.result}"
    return "timed out"


def test_task_any_event_wins_and_timer_is_cancelled() -> None:
    h = Harness(race)
    first = h.start()
    assert first.actions == [CreateTimer(0, T0 + timedelta(minutes=30))]
    won = h.run(h.raised("Approval", "yes"))
    assert won.output == '"approved:yes"'
    assert won.status is OrchestrationStatus.Completed


def test_task_any_timer_wins() -> None:
    h = Harness(race)
    h.start()
    assert h.run(h.fired(0)).output == '"timed out"'


def test_cancelled_timer_firing_later_is_ignored() -> None:
    def orch(ctx: Ctx) -> Gen:
        timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        event = ctx.wait_for_external_event("go")
        winner = yield ctx.task_any([event, timer])
        assert winner is event
        timer.cancel()
        assert timer.is_cancelled and not timer.is_completed
        yield ctx.wait_for_external_event("second")
        return "done"

    h = Harness(orch)
    h.start()
    h.run(h.raised("go"))
    late = h.run(h.fired(0))
    assert late.status is OrchestrationStatus.Running
    assert h.run(h.raised("second")).output == '"done"'


def test_cancel_after_fire_is_an_error() -> None:
    def orch(ctx: Ctx) -> Gen:
        timer = ctx.create_timer(ctx.current_utc_datetime)
        yield timer
        try:
            timer.cancel()
        except ValueError as exc:
            return str(exc)

    h = Harness(orch)
    h.start()
    assert "already fired" in (h.run(h.fired(0)).output or "")


def test_timer_accepts_naive_datetimes_as_utc() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.create_timer(ctx.current_utc_datetime.replace(tzinfo=None) + timedelta(hours=2))

    assert Harness(orch).start().actions == [CreateTimer(0, T0 + timedelta(hours=2))]


def test_task_any_result_can_be_a_faulted_task() -> None:
    def orch(ctx: Ctx) -> Gen:
        a, b = ctx.call_activity("a"), ctx.call_activity("b")
        winner = yield ctx.task_any([a, b])
        return [winner is b, winner.is_faulted, str(winner.exception)]

    h = Harness(orch)
    h.start()
    assert h.run(h.failed(1, "b broke")).output == '[true, true, "b broke"]'
