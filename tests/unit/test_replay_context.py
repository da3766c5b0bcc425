"""External events, continue-as-new, custom status and the deterministic context APIs."""

from __future__ import annotations

import uuid
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core.history import EventType
from tests.support.harness import T0, Harness, kinds

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def two_approvals(ctx: Ctx) -> Gen:
    first = yield ctx.wait_for_external_event("Approval")
    second = yield ctx.wait_for_external_event("Approval")
    return [first, second]


def test_event_raised_while_waiting() -> None:
    h = Harness(two_approvals)
    assert h.start().actions == []  # waiting consumes no sequence number and sends nothing
    h.run(h.raised("Approval", {"by": "ann"}))
    assert h.run(h.raised("Approval", 2)).output == '[{"by": "ann"}, 2]'


def test_events_raised_before_the_wait_are_kept_in_order() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_activity("slow")
        return (yield from two_approvals(ctx))

    h = Harness(orch)
    h.start()
    assert h.run(h.raised("Approval", "a")).status is OrchestrationStatus.Running
    assert h.run(h.raised("approval", "b")).status is OrchestrationStatus.Running
    done = h.run(h.completed(0))
    assert done.output == '["a", "b"]'  # names match case-insensitively, first in first out


def test_several_events_in_one_batch() -> None:
    h = Harness(two_approvals)
    h.start()
    result = h.run(h.raised("Approval", 1), h.raised("Other", 9), h.raised("Approval", 2))
    assert result.output == "[1, 2]"
    assert kinds(result.new_history).count("EventRaised") == 3


def test_event_before_execution_started_is_kept() -> None:
    h = Harness(two_approvals)
    result = h.run(h.raised("Approval", 1), h._start, h.raised("Approval", 2))
    assert result.output == "[1, 2]"


def test_continue_as_new() -> None:
    def counter(ctx: Ctx) -> Gen:
        n = ctx.get_input()
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=5))
        if n < 3:
            ctx.continue_as_new(n + 1)
            yield ctx.call_activity("ignored-after-continue-as-new")
        return n

    h = Harness(counter, 1)
    h.start()
    result = h.run(h.fired(0))
    assert result.status is OrchestrationStatus.ContinuedAsNew
    assert result.continue_as_new_input == "2" and result.output == "2"
    assert result.actions == []
    assert kinds(result.new_history) == [
        "OrchestratorStarted",
        "TimerFired",
        "ContinueAsNew",
        "OrchestratorCompleted",
    ]
    assert result.new_history[2].event_id == 1
    # the runtime then starts a fresh execution whose input is the new one
    last = Harness(counter, 3)
    last.start()
    assert last.run(last.fired(0)).output == "3"


def test_continue_as_new_then_return() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_activity("a")
        ctx.continue_as_new({"next": True})
        return "ignored"

    h = Harness(orch)
    h.start()
    result = h.run(h.completed(0))
    assert result.status is OrchestrationStatus.ContinuedAsNew
    assert result.continue_as_new_input == '{"next": true}'


def test_custom_status_set_and_replayed() -> None:
    def orch(ctx: Ctx) -> Gen:
        ctx.set_custom_status({"stage": "booking"})
        yield ctx.call_activity("book")
        assert ctx.custom_status == {"stage": "booking"}
        ctx.set_custom_status("paying")
        yield ctx.call_activity("pay")

    h = Harness(orch)
    assert h.start().custom_status == '{"stage": "booking"}'
    assert h.run(h.completed(0)).custom_status == '"paying"'
    assert h.run(h.completed(1)).custom_status == '"paying"'


def test_custom_status_carried_over_is_visible() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_activity("a")
        return ctx.custom_status

    from durable.core import OrchestrationExecutor
    from durable.core import events as ev

    executor = OrchestrationExecutor(orch, "i", custom_status='"from before"')
    start = ev.execution_started(T0, name="orch", instance_id="i")
    first = executor.execute([], [start], T0)
    assert first.custom_status == '"from before"'
    done = executor.execute(first.new_history, [ev.task_completed(T0, task_scheduled_id=0)], T0)
    assert done.output == '"from before"'


def test_current_utc_datetime_and_new_uuid_are_stable_across_replays() -> None:
    seen: dict[str, set[tuple[datetime, str, str]]] = {"start": set(), "after a": set()}

    def orch(ctx: Ctx) -> Gen:
        seen["start"].add((ctx.current_utc_datetime, ctx.new_uuid(), ctx.new_uuid()))
        yield ctx.call_activity("a")
        seen["after a"].add((ctx.current_utc_datetime, ctx.new_uuid(), ctx.new_uuid()))
        yield ctx.call_activity("b")
        return ctx.new_uuid()

    h = Harness(orch)
    h.start()
    h.run(h.completed(0), after=60)
    h.run(h.completed(1))
    h.replay()
    assert len(seen["start"]) == 1 and len(seen["after a"]) == 1  # 4 and 3 runs, same values
    (start,), (after_a,) = seen["start"], seen["after a"]
    assert start[0] == T0 and after_a[0] == T0 + timedelta(seconds=1)
    assert len({start[1], start[2], after_a[1], after_a[2]}) == 4


def test_new_uuid_matches_the_sdk_derivation() -> None:
    ids: list[str] = []

    def orch(ctx: Ctx) -> Gen:
        ids.append(ctx.new_uuid())
        yield ctx.call_activity("a")

    Harness(orch, instance_id="abc").start()
    namespace = uuid.uuid5(uuid.NAMESPACE_OID, "9e952958-5e33-4daf-827f-2fa12937b875")
    expected = uuid.uuid5(namespace, f"abc_{T0.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}_0")
    assert ids == [str(expected)]


def test_is_replaying_is_exact() -> None:
    log: list[tuple[str, bool]] = []

    def orch(ctx: Ctx) -> Gen:
        log.append(("start", ctx.is_replaying))
        yield ctx.call_activity("a")
        log.append(("after a", ctx.is_replaying))
        yield ctx.call_activity("b")
        log.append(("after b", ctx.is_replaying))

    h = Harness(orch)
    h.start()
    assert log == [("start", False)]
    log.clear()
    h.run(h.completed(0))
    assert log == [("start", True), ("after a", False)]
    log.clear()
    h.run(h.completed(1))
    assert log == [("start", True), ("after a", True), ("after b", False)]


def test_context_facts() -> None:
    facts: dict[str, Any] = {}

    def orch(ctx: Ctx) -> Gen:
        facts.update(
            instance_id=ctx.instance_id,
            parent=ctx.parent_instance_id,
            name=ctx.function_name,
            histories=[e.event_type for e in ctx.histories],
        )
        yield ctx.call_activity("a")

    Harness(orch, instance_id="xyz", name="my_orch").start()
    assert facts["instance_id"] == "xyz" and facts["parent"] is None
    assert facts["name"] == "my_orch"
    assert facts["histories"] == [EventType.OrchestratorStarted, EventType.ExecutionStarted]
