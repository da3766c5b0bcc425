"""When tasks take their sequence numbers, and the SDK 1.7 task semantics around it.

The SDK's rule: a task gets its number and its action when it is first yielded (directly or
inside task_all/task_any, children in order); fire-and-forget calls take theirs at the call.
Histories written by that rule must replay here, so the numbers must match exactly.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core.actions import CreateTimer, ScheduleTask, SignalEntity
from durable.core.entities import EntityId
from durable.core.history import EventType
from durable.core.registry import KIND_ATTRIBUTE, NAME_ATTRIBUTE
from durable.core.retry import RetryOptions
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def test_a_task_never_yielded_schedules_nothing() -> None:
    def orch(ctx: Ctx) -> Gen:
        ctx.call_activity("never")  # created, not yielded: no activity runs (as in the SDK)
        return (yield ctx.call_activity("used"))

    h = Harness(orch)
    assert h.start().actions == [ScheduleTask(0, "used", "null")]
    assert h.run(h.completed(0, "ok")).output == '"ok"'
    assert [e.name for e in h.history if e.event_type is EventType.TaskScheduled] == ["used"]


def test_numbers_follow_the_order_of_yields_not_of_calls() -> None:
    def orch(ctx: Ctx) -> Gen:
        first, second = ctx.call_activity("first"), ctx.call_activity("second")
        b = yield second
        a = yield first
        return [a, b]

    h = Harness(orch)
    assert h.start().actions == [ScheduleTask(0, "second", "null")]
    assert h.run(h.completed(0, "B")).actions == [ScheduleTask(1, "first", "null")]
    assert h.run(h.completed(1, "A")).output == '["A", "B"]'


def test_task_all_schedules_its_children_in_order_skipping_those_already_yielded() -> None:
    def orch(ctx: Ctx) -> Gen:
        a, b, c = (ctx.call_activity(n) for n in ("a", "b", "c"))
        early = yield b
        rest = yield ctx.task_all([a, b, c])
        return [early, rest]

    h = Harness(orch)
    assert h.start().actions == [ScheduleTask(0, "b", "null")]
    fan = h.run(h.completed(0, "B"))
    assert fan.actions == [ScheduleTask(1, "a", "null"), ScheduleTask(2, "c", "null")]
    done = h.run(h.completed(1, "A"), h.completed(2, "C"))
    assert done.output == '["B", ["A", "B", "C"]]'


def test_nested_compound_tasks_number_depth_first() -> None:
    def orch(ctx: Ctx) -> Gen:
        inner = ctx.task_any([ctx.call_activity("x"), ctx.create_timer(ctx.current_utc_datetime)])
        outer = ctx.task_all([ctx.call_activity("y"), inner, ctx.call_activity("z")])
        yield outer
        return "done"

    h = Harness(orch)
    actions = h.start().actions
    assert [type(a).__name__ for a in actions] == [
        "ScheduleTask", "ScheduleTask", "CreateTimer", "ScheduleTask"
    ]
    assert [getattr(a, "name", None) for a in actions] == ["y", "x", None, "z"]
    assert [getattr(a, "task_id", getattr(a, "timer_id", None)) for a in actions] == [0, 1, 2, 3]


def test_a_history_with_the_sdk_numbering_replays_and_a_different_one_does_not() -> None:
    def orch(ctx: Ctx) -> Gen:
        ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))  # never yielded
        return (yield ctx.call_activity("work"))

    h = Harness(orch)
    h.start()
    assert h.replay().status is OrchestrationStatus.Running  # the SDK's history: work is #0

    def old_rule(ctx: Ctx) -> Gen:  # as if the timer had been scheduled at the call
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        return (yield ctx.call_activity("work"))

    assert h.replay(old_rule).status is OrchestrationStatus.Failed
    assert h.run(h.completed(0, 1)).output == "1"


def test_fire_and_forget_takes_its_number_at_the_call() -> None:
    counter = EntityId("counter", "k")

    def orch(ctx: Ctx) -> Gen:
        later = ctx.call_activity("later")
        ctx.signal_entity(counter, "add", 1)
        return (yield later)

    h = Harness(orch)
    actions = h.start().actions
    assert isinstance(actions[0], SignalEntity) and actions[0].event_id == 0
    assert actions[1] == ScheduleTask(1, "later", "null")


def test_an_event_waits_from_its_yield() -> None:
    def orch(ctx: Ctx) -> Gen:
        first = ctx.wait_for_external_event("go")
        second = ctx.wait_for_external_event("go")
        got = yield second  # registered first, so it takes the first event raised
        return [got, first.is_completed]

    h = Harness(orch)
    h.start()
    assert h.run(h.raised("go", 1)).output == "[1, false]"


def test_yielding_a_completed_task_again_gives_its_value_at_once() -> None:
    def orch(ctx: Ctx) -> Gen:
        task = ctx.call_activity("once")
        first = yield task
        again = yield task
        return [first, again]

    h = Harness(orch)
    h.start()
    assert h.run(h.completed(0, 7)).output == "[7, 7]"
    assert len([e for e in h.history if e.event_type is EventType.TaskScheduled]) == 1


def test_the_result_of_a_faulted_task_is_its_exception() -> None:
    def orch(ctx: Ctx) -> Gen:
        timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        winner = yield ctx.task_any([ctx.call_activity("boom"), timer])
        timer.cancel()
        return [winner is not timer, isinstance(winner.result, Exception), str(winner.result)]

    h = Harness(orch)
    h.start()
    out = h.run(h.failed(0, "it broke"))
    assert out.status is OrchestrationStatus.Completed
    assert out.output == '[true, true, "it broke"]'


def test_task_any_of_nothing_continues_with_no_winner() -> None:
    def orch(ctx: Ctx) -> Gen:
        winner = yield ctx.task_any([])
        everything = yield ctx.task_all([])
        return [winner, everything]

    h = Harness(orch)
    done = h.start()
    assert done.status is OrchestrationStatus.Completed
    assert done.output == "[null, []]"


def test_a_retry_starts_its_first_attempt_when_yielded() -> None:
    def orch(ctx: Ctx) -> Gen:
        retried = ctx.call_activity_with_retry("flaky", RetryOptions(1000, 2))
        yield ctx.create_timer(ctx.current_utc_datetime)
        return (yield retried)

    h = Harness(orch)
    assert [type(a) for a in h.start().actions] == [CreateTimer]
    assert h.run(h.fired(0)).actions == [ScheduleTask(1, "flaky", "null")]
    assert h.run(h.completed(1, "ok")).output == '"ok"'


def test_entity_request_ids_take_nothing_from_new_uuid() -> None:
    seen: list[str] = []

    def with_call(ctx: Ctx) -> Gen:
        call = ctx.call_entity(EntityId("counter", "k"), "get")
        seen.append(ctx.new_uuid())
        yield call

    def without(ctx: Ctx) -> Gen:
        seen.append(ctx.new_uuid())
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))

    Harness(with_call).start()
    Harness(without).start()
    assert seen[0] == seen[1]


def test_call_activity_with_a_function_that_is_no_activity_fails_at_the_call() -> None:
    def plain(value: Any) -> Any:
        return value

    def orchestrator_fn(ctx: Ctx) -> Gen:
        yield ctx.call_activity("x")

    setattr(orchestrator_fn, NAME_ATTRIBUTE, "orchestrator_fn")
    setattr(orchestrator_fn, KIND_ATTRIBUTE, "orchestrator")
    errors: list[str] = []

    def orch(ctx: Ctx) -> Gen:
        for bad in (plain, orchestrator_fn):
            try:
                ctx.call_activity(bad)
            except ValueError as exc:
                errors.append(str(exc))
        try:
            ctx.call_sub_orchestrator(plain)
        except ValueError as exc:
            errors.append(str(exc))
        return len(errors)
        yield  # a generator

    assert Harness(orch).start().output == "3"
    assert "call_activity received the function 'plain'" in errors[0]
    assert "@app.activity_trigger" in errors[0]
    assert "`orchestrationTrigger` but expected `activityTrigger`" in errors[1]
    assert "@app.orchestration_trigger" in errors[2]


@pytest.mark.parametrize("yielded_twice", [False, True])
def test_a_task_yielded_in_two_compounds_is_scheduled_once(yielded_twice: bool) -> None:
    def orch(ctx: Ctx) -> Gen:
        shared = ctx.call_activity("shared")
        yield ctx.task_any([shared])
        if yielded_twice:
            yield ctx.task_all([shared, ctx.call_activity("more")])
        return "ok"

    h = Harness(orch)
    assert h.start().actions == [ScheduleTask(0, "shared", "null")]
    second = h.run(h.completed(0, 1))
    if yielded_twice:
        assert second.actions == [ScheduleTask(1, "more", "null")]
        assert h.run(h.completed(1, 2)).output == '"ok"'
    else:
        assert second.output == '"ok"'
