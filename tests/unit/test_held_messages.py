"""Which of an episode's messages wait for its tail (`InstanceKind.held`): pure, no storage."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.runtime.entities import EntityKind
from durable.runtime.kinds import Decision
from durable.runtime.orchestrations import OrchestrationKind
from durable.runtime.planning import Plan

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def msg(mid: str, kind: EventType, **fields: Any) -> TaskMessage:
    return TaskMessage(mid, "i", HistoryEvent(kind, T0, **fields), "e")


def decision(*events: HistoryEvent) -> Decision:
    return cast(Decision, SimpleNamespace(new_events=list(events)))


def recorded(m: TaskMessage) -> HistoryEvent:
    return m.event.replace(message_id=m.message_id)


def test_a_control_message_is_held_rather_than_an_activity_result() -> None:
    done = msg("w1:done", EventType.TaskCompleted, task_scheduled_id=1)
    event = msg("ev-1", EventType.EventRaised, name="go")
    plan = Plan(apply=[done, event])
    held = OrchestrationKind.held(plan, decision(recorded(done), recorded(event)))
    assert held == frozenset({"ev-1"})


def test_only_a_message_the_commit_recorded_can_be_held() -> None:
    stray = msg("w9:done", EventType.TaskCompleted, task_scheduled_id=9)  # not recorded
    done = msg("w1:done", EventType.TaskCompleted, task_scheduled_id=1)
    plan = Plan(apply=[stray, done])
    assert OrchestrationKind.held(plan, decision(recorded(done))) == frozenset({"w1:done"})
    # Nothing recorded: every message waits for the tail.
    assert OrchestrationKind.held(plan, decision()) is None


def test_continue_as_new_records_the_consumed_ids_on_its_first_event() -> None:
    event = msg("ev-2", EventType.EventRaised, name="next")
    first = HistoryEvent(EventType.OrchestratorStarted, T0, data="ev-2")
    assert OrchestrationKind.held(Plan(apply=[event]), decision(first)) == frozenset({"ev-2"})


def test_the_start_is_held_when_it_was_applied() -> None:
    start = msg("s-1", EventType.ExecutionStarted, name="o")
    done = msg("w1:done", EventType.TaskCompleted, task_scheduled_id=1)
    plan = Plan(start=start, apply=[done])
    assert OrchestrationKind.held(plan, decision(recorded(start), recorded(done))) == {"s-1"}


def test_entity_batches_hold_every_message() -> None:
    op = msg("op-1", EventType.EventRaised, name="op")
    assert EntityKind.held(Plan(apply=[op]), decision(recorded(op))) is None
