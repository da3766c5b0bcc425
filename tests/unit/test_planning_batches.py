"""The plan of one batch of messages: copies of one message in the same batch (a copy sent
again while the original's delete failed) are applied once."""

from __future__ import annotations

from datetime import UTC, datetime

from durable.core import events as ev
from durable.core.history import HistoryEvent
from durable.core.messages import TaskMessage
from durable.runtime.planning import plan_orchestration
from durable.runtime.summary import summarize

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _running() -> list[HistoryEvent]:
    return [
        ev.orchestrator_started(T0),
        ev.execution_started(T0, name="orch", instance_id="i1", execution_id="e1", input=None),
        ev.orchestrator_completed(T0),
    ]


def _event(message_id: str, name: str = "go") -> TaskMessage:
    return TaskMessage(message_id, "i1", ev.event_raised(T0, name=name, input='"x"'), "e1")


def test_two_copies_of_one_message_in_a_batch_are_applied_once() -> None:
    plan = plan_orchestration("i1", summarize(_running()), [_event("m-1"), _event("m-1")])
    assert [m.message_id for m in plan.apply] == ["m-1"]
    assert plan.duplicates == []
    assert any("second copy of message m-1" in text for _, text in plan.notes)


def test_distinct_messages_in_a_batch_are_all_applied() -> None:
    plan = plan_orchestration("i1", summarize(_running()),
                              [_event("m-1"), _event("m-2", "other")])
    assert [m.message_id for m in plan.apply] == ["m-1", "m-2"]
    assert plan.notes == []
