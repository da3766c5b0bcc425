"""Golden-history replay (`durable.testing.replay`): a recorded history replayed against
the code, raising the error a host would fail the instance with when they no longer match."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext
from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.errors import NonDeterminismError
from durable.testing import run_orchestrator
from durable.testing.replay import current_execution, replay
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def greet(ctx: Ctx) -> Gen:
    a = yield ctx.call_activity("hello", "Tokyo")
    b = yield ctx.call_activity("hello", "Seattle")
    return [a, b]


def greet_reordered(ctx: Ctx) -> Gen:
    b = yield ctx.call_activity("hello_v2", "Seattle")
    a = yield ctx.call_activity("hello", "Tokyo")
    return [a, b]


def greet_with_more_at_the_end(ctx: Ctx) -> Gen:
    a = yield ctx.call_activity("hello", "Tokyo")
    b = yield ctx.call_activity("hello", "Seattle")
    c = yield ctx.call_activity("hello", "London")
    return [a, b, c]


def finished_history() -> list[Any]:
    run = run_orchestrator(greet, activities={"hello": lambda city: f"Hello {city}!"})
    assert run.succeeded
    return run.history


def test_the_same_code_replays_a_finished_history() -> None:
    outcome = replay(finished_history(), greet)
    assert outcome.status is S.Completed
    assert outcome.output == '["Hello Tokyo!", "Hello Seattle!"]'


def test_changed_code_raises_what_a_host_would_fail_with() -> None:
    with pytest.raises(NonDeterminismError) as caught:
        replay(finished_history(), greet_reordered)
    text = str(caught.value)
    assert "expected 'TaskScheduled hello' at sequence 0, got 'call_activity hello_v2'" in text
    assert "test_golden_history.py" in text and "in greet_reordered" in text


def test_a_running_history_reports_what_the_code_does_next() -> None:
    h = Harness(greet)
    h.start()
    h.run(h.completed(0, "Hello Tokyo!"))
    running = replay(h.history, greet)
    assert running.status is S.Running and running.new_actions == []
    # Work added after the current point is new work, not a mismatch.
    finished = replay(finished_history(), greet_with_more_at_the_end)
    assert finished.status is S.Running
    assert [getattr(a, "name", None) for a in finished.new_actions] == ["hello"]


def test_missing_work_is_a_mismatch() -> None:
    def greet_once(ctx: Ctx) -> Gen:
        return [(yield ctx.call_activity("hello", "Tokyo"))]

    with pytest.raises(NonDeterminismError, match="TaskScheduled"):
        replay(finished_history(), greet_once)


def test_only_the_last_execution_is_replayed() -> None:
    def eternal(ctx: Ctx) -> Gen:
        n = ctx.get_input() or 0
        yield ctx.call_activity("tick", n)
        if n < 2:
            ctx.continue_as_new(n + 1)
        return n

    run = run_orchestrator(eternal, 0, activities={"tick": lambda n: n})
    assert run.executions == 3
    last = current_execution(run.history)
    starts = [e for e in last if e.event_type is EventType.ExecutionStarted]
    assert len(starts) == 1 and starts[0].input == "2"
    assert replay(run.history, eternal).status is S.Completed


def test_a_history_without_a_start_is_refused() -> None:
    with pytest.raises(ValueError, match="no ExecutionStarted"):
        replay([], greet)
