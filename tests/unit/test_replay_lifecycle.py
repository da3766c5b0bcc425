"""Suspend, resume and terminate, as inbound events applied by replay."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core import events as ev
from durable.core.actions import ScheduleTask
from durable.core.history import EventType
from tests.support.harness import Harness, kinds

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def chain(ctx: Ctx) -> Gen:
    a = yield ctx.call_activity("a")
    b = yield ctx.wait_for_external_event("go")
    c = yield ctx.call_activity("c")
    return [a, b, c]


def test_suspend_holds_events_until_resume() -> None:
    h = Harness(chain)
    h.start()
    suspended = h.run(ev.execution_suspended(h.now, "maintenance"), h.completed(0, 1))
    assert suspended.status is OrchestrationStatus.Suspended
    assert suspended.actions == []
    assert kinds(suspended.new_history) == [
        "OrchestratorStarted",
        "ExecutionSuspended",
        "TaskCompleted",
        "OrchestratorCompleted",
    ]
    still = h.run(h.raised("go", 2))
    assert still.status is OrchestrationStatus.Suspended and still.actions == []
    # replaying the suspended history keeps it suspended
    assert h.replay().status is OrchestrationStatus.Suspended
    resumed = h.run(ev.execution_resumed(h.now, "done"))
    assert resumed.status is OrchestrationStatus.Running
    assert resumed.actions == [ScheduleTask(1, "c", "null")]
    assert h.run(h.completed(1, 3)).output == "[1, 2, 3]"


def test_duplicates_are_dropped_while_suspended() -> None:
    h = Harness(chain)
    h.start()
    result = h.run(ev.execution_suspended(h.now), h.completed(0, 1), h.completed(0, 1))
    assert kinds(result.new_history).count("TaskCompleted") == 1


def test_terminate_running_instance() -> None:
    h = Harness(chain)
    h.start()
    result = h.run(ev.execution_terminated(h.now, '"operator said stop"'), h.completed(0))
    assert result.status is OrchestrationStatus.Terminated
    assert result.output == '"operator said stop"'
    assert kinds(result.new_history) == [
        "OrchestratorStarted",
        "ExecutionTerminated",
        "ExecutionCompleted",
        "OrchestratorCompleted",
    ]
    completed = result.new_history[2]
    assert completed.orchestration_status is OrchestrationStatus.Terminated
    assert completed.result == '"operator said stop"'
    assert result.ignored_events  # the completion after termination was not applied


def test_terminate_drops_actions_of_the_same_episode() -> None:
    h = Harness(chain)
    h.start()
    h.run(h.completed(0))
    result = h.run(h.raised("go"), ev.execution_terminated(h.now, None))
    assert result.status is OrchestrationStatus.Terminated
    assert result.actions == []
    assert "TaskScheduled" not in kinds(result.new_history)


def test_terminate_overrides_suspension() -> None:
    h = Harness(chain)
    h.start()
    h.run(ev.execution_suspended(h.now))
    result = h.run(h.completed(0), ev.execution_terminated(h.now, '"bye"'))
    assert result.status is OrchestrationStatus.Terminated
    assert h.replay().status is OrchestrationStatus.Terminated


def test_terminated_history_replays_as_terminated() -> None:
    h = Harness(chain)
    h.start()
    h.run(ev.execution_terminated(h.now, '"x"'))
    again = h.run(h.completed(0))
    assert again.status is OrchestrationStatus.Terminated
    assert again.new_history == [] and again.output == '"x"'


def test_resume_without_suspend_is_harmless() -> None:
    h = Harness(chain)
    h.start()
    assert h.run(ev.execution_resumed(h.now)).status is OrchestrationStatus.Running


def test_not_started_is_pending() -> None:
    h = Harness(chain)
    result = h.run(h.raised("go"))
    assert result.status is OrchestrationStatus.Pending


def test_generic_events_are_recorded_and_ignored() -> None:
    h = Harness(chain)
    h.start()
    generic = ev.orchestrator_started(h.now).replace(event_type=EventType.GenericEvent, data="x")
    result = h.run(generic)
    assert "GenericEvent" in kinds(result.new_history)
    assert result.status is OrchestrationStatus.Running
