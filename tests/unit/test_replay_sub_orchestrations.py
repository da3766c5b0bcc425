"""Sub-orchestrations: ids, inputs in history, success and failure in the parent."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from durable.core import DurableOrchestrationContext, OrchestrationStatus, ParentInstance
from durable.core.actions import CreateSubOrchestration
from durable.core.history import EventType
from durable.errors import TaskFailedError
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def parent(ctx: Ctx) -> Gen:
    first = yield ctx.call_sub_orchestrator("child", {"n": 1})
    second = yield ctx.call_sub_orchestrator("child", {"n": 2}, instance_id="fixed-id")
    return [first, second]


def test_sub_orchestrator_success_and_ids() -> None:
    h = Harness(parent, instance_id="P")
    assert h.start().actions == [CreateSubOrchestration(0, "child", "P:0", '{"n": 1}')]
    second = h.run(h.sub_completed(0, "one"))
    assert second.actions == [CreateSubOrchestration(1, "child", "fixed-id", '{"n": 2}')]
    created = h.of_type(EventType.SubOrchestrationInstanceCreated)
    assert [(e.event_id, e.name, e.instance_id, e.input) for e in created] == [
        (0, "child", "P:0", '{"n": 1}'),
        (1, "child", "fixed-id", '{"n": 2}'),
    ]
    assert h.run(h.sub_completed(1, "two")).output == '["one", "two"]'


def test_sub_orchestrator_failure_is_catchable() -> None:
    caught: list[TaskFailedError] = []

    def orch(ctx: Ctx) -> Gen:
        try:
            yield ctx.call_sub_orchestrator("child")
        except TaskFailedError as exc:
            caught.append(exc)
            return "recovered"

    h = Harness(orch)
    h.start()
    assert h.run(h.sub_failed(0, "child exploded")).output == '"recovered"'
    assert str(caught[0]) == "child exploded" and caught[0].error_type == "RuntimeError"
    assert caught[0].stack_trace == "child stack"


def test_unhandled_sub_orchestrator_failure_fails_parent() -> None:
    h = Harness(parent)
    h.start()
    result = h.run(h.sub_failed(0, "child exploded"))
    assert result.status is OrchestrationStatus.Failed
    assert result.failure_details is not None
    assert result.failure_details.error_message == "child exploded"


def test_child_sees_its_parent() -> None:
    seen: list[str | None] = []

    def child(ctx: Ctx) -> Gen:
        seen.append(ctx.parent_instance_id)
        yield ctx.call_activity("a")

    Harness(child, parent=ParentInstance("parent", "P", "exec", 0)).start()
    assert seen == ["P"]


def test_sub_orchestrator_fan_out() -> None:
    def orch(ctx: Ctx) -> Gen:
        results = yield ctx.task_all([ctx.call_sub_orchestrator("child", i) for i in range(3)])
        return results

    h = Harness(orch, instance_id="P")
    started = h.start()
    assert [a.instance_id for a in started.actions] == ["P:0", "P:1", "P:2"]  # type: ignore[union-attr]
    result = h.run(h.sub_completed(2, "c"), h.sub_completed(0, "a"), h.sub_completed(1, "b"))
    assert result.output == '["a", "b", "c"]'


def test_bad_instance_id_fails_with_named_argument() -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_sub_orchestrator("child", instance_id="@counter@1")

    result = Harness(orch).start()
    assert result.failure_details is not None
    assert "instance_id" in result.failure_details.error_message
