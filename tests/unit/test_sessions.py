"""Extended sessions: a live session fed only new events behaves like full replay."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any

from durable.core import (
    DurableOrchestrationContext,
    OrchestrationExecutor,
    OrchestrationSession,
    OrchestrationStatus,
    RetryOptions,
)
from durable.core import events as ev
from durable.core.history import HistoryEvent
from tests.support.harness import T0, Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext
runs: list[str] = []


def workflow(ctx: Ctx) -> Gen:
    runs.append("start")
    parts = yield ctx.task_all([ctx.call_activity("part", i) for i in range(3)])
    approval = yield ctx.wait_for_external_event("ok")
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=1))
    retried = yield ctx.call_activity_with_retry("flaky", RetryOptions(1000, 3))
    return [parts, approval, retried]


def drive(h: Harness) -> list[HistoryEvent]:
    h.start()
    h.run(h.completed(2, "c"), h.completed(0, "a"))
    h.run(h.completed(1, "b"), h.raised("ok", True))
    h.run(h.fired(3))
    h.run(h.failed(4))
    h.run(h.fired(5))
    result = h.run(h.completed(6, "done"))
    assert result.status is OrchestrationStatus.Completed
    assert result.output == '[["a", "b", "c"], true, "done"]'
    return h.history


def test_session_and_full_replay_write_the_same_history() -> None:
    runs.clear()
    replayed = drive(Harness(workflow))
    replays = len(runs)
    runs.clear()
    live = drive(Harness(workflow, sessions=True))
    assert live == replayed
    assert len(runs) == 1 and replays == 7  # the session ran the code once, replay every time


def test_session_resumes_from_committed_history() -> None:
    h = Harness(workflow)
    h.start()
    h.run(h.completed(0, "a"), h.completed(1, "b"), h.completed(2, "c"))
    session = OrchestrationSession(workflow, h.instance_id, h.history)
    result = session.apply([h.raised("ok", 1)], h.now)
    assert [type(a).__name__ for a in result.actions] == ["CreateTimer"]
    assert session.history == h.history + result.new_history
    assert session.context.is_replaying is False


def test_finished_session_ignores_more_events() -> None:
    def quick(ctx: Ctx) -> str:
        return "done"

    session = OrchestrationSession(quick, "i")
    start = ev.execution_started(T0, name="quick", instance_id="i")
    assert session.apply([start], T0).status is OrchestrationStatus.Completed
    later = session.apply([ev.event_raised(T0, name="x")], T0)
    assert later.new_history == [] and later.status is OrchestrationStatus.Completed


def test_executor_is_a_fresh_session_per_call() -> None:
    factory: Callable[[Ctx], Any] = workflow
    executor = OrchestrationExecutor(factory, "i")
    start = ev.execution_started(T0, name="workflow", instance_id="i")
    first = executor.execute([], [start], T0)
    again = executor.execute([], [start], T0)
    assert first.new_history == again.new_history
