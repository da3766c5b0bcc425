"""durable.testing: entities in memory, alone and answering an orchestration."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import durable as df
from durable.testing import run_entity, run_orchestrator

Gen = Generator[Any, Any, Any]


def counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    elif context.operation_name == "fail":
        raise ValueError("nope")
    elif context.operation_name == "tell":
        context.signal_entity(df.EntityId("counter", "other"), "add", value)
    context.set_state(value)
    context.set_result(value)


def test_run_entity_applies_a_batch() -> None:
    run = run_entity(counter, [("add", 5), ("fail", None), ("add", 2), ("tell", None)], state=1)
    assert run.results == [6, None, 8, 8]
    assert run.errors == ["nope"] and run.failures[1] is not None
    assert run.state == 8 and run.exists
    assert run.signals == [("@counter@other", "add", 8)]


def test_run_entity_from_nothing() -> None:
    run = run_entity(counter, [("get", None)])
    assert run.results == [0] and run.state == 0


def test_run_orchestrator_answers_entity_calls_in_memory() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Gen:
        c = df.EntityId("counter", "x")
        ctx.signal_entity(c, "add", 3)
        with (yield ctx.lock([c])):
            value = yield ctx.call_entity(c, "add", 4)
        try:
            yield ctx.call_entity(c, "fail")
        except Exception as exc:
            return value, str(exc)
        return value, None

    run = run_orchestrator(orch, entities={"counter": counter})
    assert run.succeeded, run.output
    assert run.output == [7, "nope"]
    assert run.entity_state(df.EntityId("counter", "x")) == 7


def test_without_entities_requests_are_only_recorded() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Gen:
        ctx.signal_entity(df.EntityId("counter", "x"), "add", 3)
        yield ctx.create_timer(ctx.current_utc_datetime)
        return "done"

    run = run_orchestrator(orch)
    assert run.output == "done"
    assert [e.instance_id for e in run.sent_events] == ["@counter@x"]
