"""Non-determinism detection, duplicate and unknown completions, badly written orchestrators."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core.history import EventType
from tests.support.harness import Harness, kinds

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def v1(ctx: Ctx) -> Gen:
    yield ctx.call_activity("reserve")
    yield ctx.call_activity("pay")
    yield ctx.call_activity("book_hotel")
    return "ok"


def renamed(ctx: Ctx) -> Gen:
    yield ctx.call_activity("reserve")
    yield ctx.call_activity("pay")
    yield ctx.call_activity("book_flight")
    return "ok"


def timer_instead(ctx: Ctx) -> Gen:
    yield ctx.call_activity("reserve")
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=1))


def shorter(ctx: Ctx) -> Gen:
    yield ctx.call_activity("reserve")
    return "done early"


def history_up_to_book_hotel() -> Harness:
    h = Harness(v1)
    h.start()
    h.run(h.completed(0))
    h.run(h.completed(1))
    return h


def test_name_change_is_detected_with_line_and_fix() -> None:
    h = history_up_to_book_hotel()
    h.orchestrator = renamed
    result = h.run(h.completed(2))
    assert result.status is OrchestrationStatus.Failed
    details = result.failure_details
    assert details is not None and details.error_type == "NonDeterminismError"
    message = details.error_message
    assert "expected 'TaskScheduled book_hotel' at sequence 2" in message
    assert "got 'call_activity book_flight'" in message
    assert "test_replay_determinism.py" in message and 'call_activity("book_flight")' in message
    assert "version" in message
    assert result.actions == []
    assert kinds(result.new_history) == [
        "OrchestratorStarted",
        "ExecutionCompleted",
        "OrchestratorCompleted",
    ]


def test_names_compare_case_insensitively() -> None:
    def upper(ctx: Ctx) -> Gen:
        yield ctx.call_activity("RESERVE")
        yield ctx.call_activity("Pay")
        yield ctx.call_activity("Book_Hotel")
        return "ok"

    h = history_up_to_book_hotel()
    h.orchestrator = upper
    assert h.run(h.completed(2)).status is OrchestrationStatus.Completed


def test_kind_change_is_detected() -> None:
    h = history_up_to_book_hotel()
    result = h.replay(timer_instead)
    assert result.failure_details is not None
    message = result.failure_details.error_message
    assert "expected 'TaskScheduled pay' at sequence 1, got 'create_timer'" in message


def test_code_doing_less_than_history_is_detected() -> None:
    h = history_up_to_book_hotel()
    result = h.replay(shorter)
    assert result.failure_details is not None
    message = result.failure_details.error_message
    assert "history has 'TaskScheduled pay' at sequence 1" in message
    assert "had already completed" in message


def test_code_waiting_elsewhere_is_reported_with_its_line() -> None:
    def waits(ctx: Ctx) -> Gen:
        yield ctx.call_activity("reserve")
        yield ctx.wait_for_external_event("never")

    h = history_up_to_book_hotel()
    result = h.replay(waits)
    assert result.failure_details is not None
    message = result.failure_details.error_message
    assert "did not schedule anything for it" in message
    assert "waiting at" in message and 'wait_for_external_event("never")' in message


def test_sub_orchestration_instance_id_change_is_detected() -> None:
    def a(ctx: Ctx) -> Gen:
        yield ctx.call_sub_orchestrator("child", instance_id="one")

    def b(ctx: Ctx) -> Gen:
        yield ctx.call_sub_orchestrator("child", instance_id="two")

    h = Harness(a)
    h.start()
    result = h.replay(b)
    assert result.failure_details is not None
    assert "instance 'one'" in result.failure_details.error_message
    assert "instance 'two'" in result.failure_details.error_message


def test_user_cannot_swallow_non_determinism() -> None:
    def swallowing(ctx: Ctx) -> Gen:
        yield ctx.call_activity("reserve")
        try:  # noqa: SIM105 - the code under test swallows every error on purpose
            yield ctx.call_activity("something else")
        except Exception:
            pass
        return "pretend all is well"

    h = history_up_to_book_hotel()
    assert h.replay(swallowing).status is OrchestrationStatus.Failed


def test_duplicate_and_unknown_completions_are_ignored() -> None:
    h = Harness(v1)
    h.start()
    first = h.run(h.completed(0, "r"))
    assert kinds(first.new_history).count("TaskCompleted") == 1
    duplicate = h.run(h.completed(0, "again"), h.completed(42), h.completed(7))
    assert kinds(duplicate.new_history) == ["OrchestratorStarted", "OrchestratorCompleted"]
    assert len(duplicate.ignored_events) == 3
    assert duplicate.actions == []
    both = h.run(h.completed(1), h.completed(1))
    assert kinds(both.new_history).count("TaskCompleted") == 1


def test_completion_of_the_wrong_kind_is_ignored() -> None:
    h = Harness(v1)
    h.start()
    wrong = h.run(h.sub_completed(0))
    assert wrong.ignored_events and wrong.status is OrchestrationStatus.Running


def test_timer_fired_twice_is_ignored() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=1))
        yield ctx.wait_for_external_event("x")

    h = Harness(orch)
    h.start()
    h.run(h.fired(0))
    again = h.run(h.fired(0))
    assert again.ignored_events and len(h.of_type(EventType.TimerFired)) == 1


def test_duplicate_execution_started_is_ignored() -> None:
    h = Harness(v1)
    h.start()
    again = h.run(h._start)
    assert kinds(again.new_history) == ["OrchestratorStarted", "OrchestratorCompleted"]
    assert len(h.of_type(EventType.ExecutionStarted)) == 1


def test_events_for_a_completed_execution_are_ignored() -> None:
    def quick(ctx: Ctx) -> Gen:
        return (yield ctx.call_activity("a"))

    h = Harness(quick)
    h.start()
    h.run(h.completed(0, 1))
    late = h.run(h.raised("x"), h.completed(0, 2))
    assert late.new_history == [] and late.status is OrchestrationStatus.Completed
    assert late.output == "1" and len(late.ignored_events) == 2


def test_engine_only_events_in_new_events_are_ignored() -> None:
    h = Harness(v1)
    h.start()
    scheduled = h.of_type(EventType.TaskScheduled)[0]
    result = h.run(scheduled)
    assert result.ignored_events == [scheduled]


# --- orchestrators written wrongly -------------------------------------------------------


def failure_message(orchestrator: Any) -> str:
    result = Harness(orchestrator).start()
    assert result.status is OrchestrationStatus.Failed
    assert result.failure_details is not None
    assert result.failure_details.error_type == "InvalidOrchestratorError"
    return result.failure_details.error_message


def test_async_def_orchestrator() -> None:
    async def orch(ctx: Ctx) -> Any:
        return await ctx.call_activity("a")  # type: ignore[misc]

    message = failure_message(orch)
    assert "async def" in message and "yield" in message


def test_wrapped_async_orchestrator() -> None:
    async def inner(ctx: Ctx) -> None:
        return None

    def wrapper(ctx: Ctx) -> Any:
        return inner(ctx)

    assert "async def" in failure_message(wrapper)


def test_helper_generator_yielded_instead_of_yield_from() -> None:
    def helper(ctx: Ctx) -> Gen:
        return (yield ctx.call_activity("a"))

    def orch(ctx: Ctx) -> Gen:
        result = yield helper(ctx)
        return result

    message = failure_message(orch)
    assert "yielded the generator helper()" in message
    assert "yield from helper(...)" in message
    assert "result = yield helper(ctx)" in message  # the offending line


def test_helper_generator_with_yield_from_works() -> None:
    def helper(ctx: Ctx, city: str) -> Gen:
        return (yield ctx.call_activity("hello", city))

    def orch(ctx: Ctx) -> Gen:
        a = yield from helper(ctx, "x")
        return a

    h = Harness(orch)
    h.start()
    assert h.run(h.completed(0, "hi")).output == '"hi"'


def test_returning_a_task_instead_of_yielding() -> None:
    def orch(ctx: Ctx) -> Any:
        return ctx.call_activity("a")

    assert "returned a task instead of yielding it" in failure_message(orch)


def test_yielding_a_list() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield [ctx.call_activity("a"), ctx.call_activity("b")]

    assert "task_all" in failure_message(orch)


def test_yielding_something_else() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield 42

    message = failure_message(orch)
    assert "yielded int 42" in message and "call_activity" in message
