"""Orchestrators that misbehave end Failed with a readable message; replay never raises.

Covers values that cannot be serialized (returned, passed to an activity or sub-orchestrator,
set as custom status, carried by continue-as-new), yields of things that are not tasks, and
exceptions that are hard to describe (a failing `__str__`, SystemExit, GeneratorExit).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core.replay import EpisodeResult
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


class UnprintableValue:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class BrokenToJson:
    def to_json(self) -> Any:
        raise UnprintableError()


def returns_set(ctx: Ctx) -> Gen:
    yield ctx.call_activity("a")
    return {1, 2}


def returns_cycle(ctx: Ctx) -> Gen:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    yield ctx.call_activity("a")
    return loop


def returns_broken_to_json(ctx: Ctx) -> Gen:
    yield ctx.call_activity("a")
    return BrokenToJson()


def plain_function_returns_object(ctx: Ctx) -> Any:
    return object()


def passes_bytes(ctx: Ctx) -> Gen:
    yield ctx.call_activity("a", b"raw")


def passes_set_to_child(ctx: Ctx) -> Gen:
    yield ctx.call_sub_orchestrator("child", {"a", "b"})


def sets_object_status(ctx: Ctx) -> Gen:
    ctx.set_custom_status(object())
    yield ctx.call_activity("a")


def continues_with_object(ctx: Ctx) -> Gen:
    ctx.continue_as_new(object())
    yield ctx.call_activity("a")


def yields_int(ctx: Ctx) -> Gen:
    yield 42


def yields_none(ctx: Ctx) -> Gen:
    yield None


def yields_unprintable(ctx: Ctx) -> Gen:
    yield UnprintableValue()


def yields_list(ctx: Ctx) -> Gen:
    yield [ctx.call_activity("a"), ctx.call_activity("b")]


def raises_unprintable_at_once(ctx: Ctx) -> Gen:
    raise UnprintableError()
    yield  # pragma: no cover


def raises_unprintable_later(ctx: Ctx) -> Gen:
    yield ctx.call_activity("a")
    raise UnprintableError()


def calls_sys_exit(ctx: Ctx) -> Gen:
    yield ctx.call_activity("a")
    raise SystemExit(3)


def raises_generator_exit(ctx: Ctx) -> Gen:
    raise GeneratorExit()
    yield  # pragma: no cover


def waits_for_unnamed_event(ctx: Ctx) -> Gen:
    yield ctx.wait_for_external_event(None)  # type: ignore[arg-type]


def calls_unnamed_activity(ctx: Ctx) -> Gen:
    yield ctx.call_activity(None)


def timer_at_text(ctx: Ctx) -> Gen:
    yield ctx.create_timer("tomorrow")  # type: ignore[arg-type]


def task_all_of_ints(ctx: Ctx) -> Gen:
    yield ctx.task_all([1, 2])  # type: ignore[list-item]


def run_to_end(orchestrator: Callable[..., Any]) -> tuple[Harness, EpisodeResult]:
    """Start, and complete the first activity if the orchestrator is waiting on one."""
    h = Harness(orchestrator, name="bad")
    result = h.start()
    if result.status is OrchestrationStatus.Running and result.actions:
        result = h.run(h.completed(0, "done"))
    return h, result


CASES: list[tuple[Callable[..., Any], str, list[str]]] = [
    (returns_set, "SerializationError", ["type set", "output of orchestrator 'bad'"]),
    (returns_cycle, "SerializationError", ["type dict", "Circular reference"]),
    (returns_broken_to_json, "SerializationError", ["its to_json raised UnprintableError"]),
    (plain_function_returns_object, "SerializationError", ["type object"]),
    (passes_bytes, "SerializationError", ["type bytes", "input of activity 'a'"]),
    (passes_set_to_child, "SerializationError", ["input of sub-orchestrator 'child'"]),
    (sets_object_status, "SerializationError", ["custom status"]),
    (continues_with_object, "SerializationError", ["input of continue_as_new"]),
    (yields_int, "InvalidOrchestratorError", ["yielded int 42", "Yield only tasks"]),
    (yields_none, "InvalidOrchestratorError", ["yielded NoneType None"]),
    (yields_unprintable, "InvalidOrchestratorError", ["yielded UnprintableValue"]),
    (yields_list, "InvalidOrchestratorError", ["a list", "task_all"]),
    (raises_unprintable_at_once, "UnprintableError", ["str() of the UnprintableError failed"]),
    (raises_unprintable_later, "UnprintableError", ["str() of the UnprintableError failed"]),
    (calls_sys_exit, "SystemExit", ["failed: 3"]),
    (raises_generator_exit, "GeneratorExit", ["Orchestrator function 'bad' failed"]),
    (waits_for_unnamed_event, "ValueError", ["name must be a non-empty event name"]),
    (calls_unnamed_activity, "ValueError", ["name must be a function name"]),
    (timer_at_text, "ValueError", ["fire_at must be a datetime, got str"]),
    (task_all_of_ints, "TypeError", ["got int"]),
]


@pytest.mark.parametrize(
    ("orchestrator", "error_type", "phrases"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_misbehaving_orchestrator_fails_with_a_readable_message(
    orchestrator: Callable[..., Any], error_type: str, phrases: list[str]
) -> None:
    h, result = run_to_end(orchestrator)
    assert result.status is OrchestrationStatus.Failed
    details = result.failure_details
    assert details is not None
    assert details.error_type == error_type
    output = json.loads(result.output or "null")
    assert output.startswith("Orchestrator function 'bad' failed: ")
    for phrase in phrases:
        assert phrase in output, output
    # Nothing was scheduled after the failure, and replaying the failed history agrees.
    assert h.replay().status is OrchestrationStatus.Failed


def test_keyboard_interrupt_is_not_swallowed() -> None:
    """Ctrl-C belongs to whoever runs the process, not to the orchestration."""

    def interrupted(ctx: Ctx) -> Gen:
        raise KeyboardInterrupt
        yield  # pragma: no cover

    with pytest.raises(KeyboardInterrupt):
        Harness(interrupted).start()
