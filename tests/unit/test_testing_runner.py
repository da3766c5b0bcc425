"""durable.testing.run_orchestrator: the in-memory runner users test their orchestrations with."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext, OrchestrationStatus, RetryOptions
from durable.core.history import EventType
from durable.testing import DEFAULT_START, ExternalEvent, Terminate, run_orchestrator

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def hello_sequence(ctx: Ctx) -> Gen:
    cities = ctx.get_input()
    results = []
    for city in cities:
        results.append((yield ctx.call_activity("say_hello", city)))
    return results


def say_hello(city: str) -> str:
    return f"Hello {city}!"


def test_chaining_with_activities() -> None:
    run = run_orchestrator(
        hello_sequence, input=["Tokyo", "London"], activities={"say_hello": say_hello}
    )
    assert run.succeeded and run.status is OrchestrationStatus.Completed
    assert run.output == ["Hello Tokyo!", "Hello London!"]
    assert run.inputs_of("say_hello") == ["Tokyo", "London"]
    assert [c.result for c in run.activity_calls] == run.output
    assert run.history[1].event_type is EventType.ExecutionStarted
    assert run.episodes == 3


def test_activities_given_as_a_list_of_functions() -> None:
    run = run_orchestrator(hello_sequence, input=["Oslo"], activities=[say_hello])
    assert run.output == ["Hello Oslo!"]


def test_failing_activity_and_retry() -> None:
    attempts: list[datetime] = []

    def flaky(_: Any) -> str:
        attempts.append(datetime.now())
        if len(attempts) < 3:
            raise ConnectionError(f"attempt {len(attempts)} failed")
        return "third time lucky"

    def orch(ctx: Ctx) -> Gen:
        options = RetryOptions(
            first_retry_interval_in_milliseconds=60_000, max_number_of_attempts=3
        )
        return (yield ctx.call_activity_with_retry("flaky", options))

    run = run_orchestrator(orch, activities={"flaky": flaky})
    assert run.output == "third time lucky"
    assert run.finished_at - run.started_at == timedelta(minutes=2)  # two retry timers, no sleep
    assert isinstance(run.activity_calls[0].error, ConnectionError)


def test_unhandled_activity_error_fails_the_run() -> None:
    def broken(_: Any) -> None:
        raise RuntimeError("kaput")

    run = run_orchestrator(hello_sequence, input=["x"], activities={"say_hello": broken})
    assert run.status is OrchestrationStatus.Failed
    assert run.output == "kaput"
    assert run.failure_details is not None and "RuntimeError" in (
        run.failure_details.stack_trace or ""
    )


def approval(ctx: Ctx) -> Gen:
    ctx.set_custom_status("waiting")
    timeout = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
    answer = ctx.wait_for_external_event("Approval")
    winner = yield ctx.task_any([answer, timeout])
    if winner == answer:
        timeout.cancel()
        ctx.set_custom_status("approved")
        return answer.result
    return "timed out"


def test_event_at_a_time() -> None:
    run = run_orchestrator(approval, events=[ExternalEvent("Approval", "yes", after=300)])
    assert run.output == "yes" and run.custom_status == "approved"
    assert run.finished_at == DEFAULT_START + timedelta(minutes=5)


def test_timer_fires_when_nothing_else_happens() -> None:
    run = run_orchestrator(approval)
    assert run.output == "timed out" and run.custom_status == "waiting"
    assert run.finished_at == DEFAULT_START + timedelta(hours=1)


def test_event_when_idle_and_as_tuple() -> None:
    run = run_orchestrator(approval, events=[(None, "Approval", {"ok": True})])
    assert run.output == {"ok": True}
    assert run.finished_at == DEFAULT_START


def test_event_after_the_timeout_loses() -> None:
    run = run_orchestrator(approval, events=[ExternalEvent("Approval", "late", timedelta(hours=2))])
    assert run.output == "timed out"


def test_sub_orchestrators_run_in_memory() -> None:
    def child(ctx: Ctx) -> Gen:
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=ctx.get_input()))
        return (yield ctx.call_activity("say_hello", f"child {ctx.get_input()}"))

    def parent(ctx: Ctx) -> Gen:
        return (yield ctx.task_all([ctx.call_sub_orchestrator("child", n) for n in (3, 1)]))

    run = run_orchestrator(
        parent,
        activities={"say_hello": say_hello},
        sub_orchestrators={"child": child},
        instance_id="P",
    )
    assert run.output == ["Hello child 3!", "Hello child 1!"]
    assert set(run.sub_orchestrations) == {"P:0", "P:1"}
    assert [c.instance_id for c in run.activity_calls] == ["P:0", "P:1"]
    assert run.finished_at == DEFAULT_START + timedelta(minutes=3)


def test_eternal_orchestration_with_continue_as_new() -> None:
    def counter(ctx: Ctx) -> Gen:
        n = ctx.get_input()
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(days=1))
        if n < 4:
            ctx.continue_as_new(n + 1)
            return None
        return n

    run = run_orchestrator(counter, input=0)
    assert run.output == 4 and run.executions == 5
    assert run.finished_at == DEFAULT_START + timedelta(days=5)


def test_max_episodes_stops_an_endless_run() -> None:
    def forever(ctx: Ctx) -> Gen:
        while True:
            yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))

    run = run_orchestrator(forever, max_episodes=10, replay=False)
    assert run.status is OrchestrationStatus.Running and run.episodes == 10


def test_stuck_run_stops_running() -> None:
    def waits(ctx: Ctx) -> Gen:
        yield ctx.wait_for_external_event("never")

    run = run_orchestrator(waits)
    assert run.status is OrchestrationStatus.Running and run.output is None


def test_terminate() -> None:
    run = run_orchestrator(approval, events=[Terminate("enough", after=60)])
    assert run.status is OrchestrationStatus.Terminated and run.output == "enough"


def test_missing_activity_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="activity 'say_hello'.*has: none"):
        run_orchestrator(hello_sequence, input=["x"])


def test_nondeterministic_code_is_caught_by_replay() -> None:
    calls = iter(range(100))

    def random_name(ctx: Ctx) -> Gen:
        yield ctx.call_activity(f"step{next(calls)}")
        yield ctx.call_activity("end")

    activities = {f"step{i}": say_hello for i in range(100)} | {"end": say_hello}
    run = run_orchestrator(random_name, activities=activities)
    assert run.status is OrchestrationStatus.Failed
    assert run.failure_details is not None
    assert run.failure_details.error_type == "NonDeterminismError"


def test_async_activities_are_awaited() -> None:
    async def shout(text: str) -> str:
        return text.upper()

    run = run_orchestrator(hello_sequence, input=["a"], activities={"say_hello": shout})
    assert run.output == ["A"]
