"""The outbox is a pure function of committed history: re-deriving it gives the same
messages with the same ids, which is what makes re-sending after a crash safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationStatus,
    ParentInstance,
)
from durable.core.messages import TaskMessage
from durable.runtime.outbox import derive_outbound, episode_outbound, episode_spans

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STARTED = HistoryEvent(
    EventType.ExecutionStarted, T0, name="parent", instance_id="p", execution_id="e1"
)


def episode_containing(
    history: list[HistoryEvent], message_ids: set[str]
) -> list[HistoryEvent] | None:
    """The events of the episodes that consumed any of `message_ids` (None: none did)."""
    spans = episode_spans(history, message_ids)
    return [e for start, end in spans for e in history[start:end]] or None


def episode() -> list[HistoryEvent]:
    return [
        HistoryEvent(EventType.OrchestratorStarted, T0),
        HistoryEvent(EventType.TaskCompleted, T0, task_scheduled_id=0, message_id="m-1"),
        HistoryEvent(EventType.TaskScheduled, T0, event_id=1, name="act", input='"x"'),
        HistoryEvent(EventType.TimerCreated, T0, event_id=2, fire_at=T0 + timedelta(hours=1)),
        HistoryEvent(EventType.SubOrchestrationInstanceCreated, T0, event_id=3, name="child",
                     instance_id="p:3", input="1"),
        HistoryEvent(EventType.EventSent, T0, event_id=4, instance_id="other", name="ping",
                     input="2"),
        HistoryEvent(EventType.OrchestratorCompleted, T0),
    ]


def test_every_action_becomes_one_message_with_a_stable_id() -> None:
    first = derive_outbound("p", "e1", STARTED, episode(), T0)
    again = derive_outbound("p", "e1", STARTED, episode(), T0 + timedelta(minutes=5))
    assert [o.message.message_id for o in first] == [o.message.message_id for o in again]
    kinds = [(o.message.instance_id, o.message.event.event_type, o.to_work_items) for o in first]
    assert kinds == [
        ("p", EventType.TaskScheduled, True),
        ("p", EventType.TimerFired, False),
        ("p:3", EventType.ExecutionStarted, False),
        ("other", EventType.EventRaised, False),
    ]
    timer = first[1]
    assert timer.visible_at == T0 + timedelta(hours=1) and timer.message.event.timer_id == 2
    child = first[2].message.event
    assert child.parent == ParentInstance("parent", "p", "e1", 3)
    assert child.execution_id == again[2].message.event.execution_id  # deterministic


def test_completion_notifies_the_parent() -> None:
    child_started = HistoryEvent(
        EventType.ExecutionStarted, T0, name="child", instance_id="p:3", execution_id="c1",
        parent=ParentInstance("parent", "p", "e1", 3),
    )
    done = HistoryEvent(EventType.ExecutionCompleted, T0, event_id=0,
                        orchestration_status=OrchestrationStatus.Completed, result="42")
    failed = done.replace(orchestration_status=OrchestrationStatus.Failed, result=None,
                          failure_details=FailureDetails("ValueError", "boom"))
    [ok] = derive_outbound("p:3", "c1", child_started, [done], T0)
    [bad] = derive_outbound("p:3", "c1", child_started, [failed], T0)
    assert (ok.message.instance_id, ok.message.execution_id) == ("p", "e1")
    assert ok.message.event.event_type is EventType.SubOrchestrationInstanceCompleted
    assert ok.message.event.task_scheduled_id == 3 and ok.message.event.result == "42"
    assert bad.message.event.event_type is EventType.SubOrchestrationInstanceFailed
    assert bad.message.event.reason == "boom"


def test_episode_containing_finds_the_episode_that_consumed_a_message() -> None:
    history = [STARTED, *episode(), HistoryEvent(EventType.OrchestratorStarted, T0),
               HistoryEvent(EventType.OrchestratorCompleted, T0)]
    found = episode_containing(history, {"m-1"})
    assert found is not None
    assert found[0].event_type is EventType.OrchestratorStarted
    assert found[-1].event_type is EventType.OrchestratorCompleted
    assert len(found) == len(episode())
    assert episode_containing(history, {"unknown"}) is None


def test_redelivered_messages_of_two_episodes_re_send_both_outboxes() -> None:
    second = [
        HistoryEvent(EventType.OrchestratorStarted, T0),
        HistoryEvent(EventType.TaskCompleted, T0, task_scheduled_id=1, message_id="m-2"),
        HistoryEvent(EventType.TaskScheduled, T0, event_id=5, name="next", input='"y"'),
        HistoryEvent(EventType.OrchestratorCompleted, T0),
    ]
    history = [STARTED, *episode(), *second]
    found = episode_containing(history, {"m-1", "m-2"})
    assert found == [*episode(), *second]
    names = [o.message.event.name for o in derive_outbound("p", "e1", STARTED, found, T0)
             if o.message.event.event_type is EventType.TaskScheduled]
    assert names == ["act", "next"]


def test_re_sends_leave_out_what_history_already_answered() -> None:
    from durable.runtime.outbox import still_awaited

    out = derive_outbound("p", "e1", STARTED, episode(), T0)
    later = [
        HistoryEvent(EventType.TaskCompleted, T0, task_scheduled_id=1, result='"done"'),
        HistoryEvent(EventType.TimerFired, T0, timer_id=2, fire_at=T0),
    ]
    left = still_awaited(out, [*episode(), *later])
    kinds = [o.message.event.event_type for o in left]
    # the activity and the timer are answered; the sub-orchestration and the event are not
    assert kinds == [EventType.ExecutionStarted, EventType.EventRaised]
    done = HistoryEvent(EventType.SubOrchestrationInstanceCompleted, T0, task_scheduled_id=3)
    assert [o.message.event.event_type for o in still_awaited(left, [done])] == [
        EventType.EventRaised
    ]


def _fan_out(n: int) -> list[HistoryEvent]:
    return [
        STARTED,
        HistoryEvent(EventType.OrchestratorStarted, T0),
        *(HistoryEvent(EventType.TaskScheduled, T0, event_id=i, name="act", input=str(i))
          for i in range(n)),
        HistoryEvent(EventType.OrchestratorCompleted, T0),
    ]


def _answers(*ids: int) -> list[HistoryEvent]:
    return [
        HistoryEvent(EventType.OrchestratorStarted, T0),
        *(HistoryEvent(EventType.TaskCompleted, T0, task_scheduled_id=i, message_id=f"d-{i}")
          for i in ids),
        HistoryEvent(EventType.OrchestratorCompleted, T0),
    ]


def _sent(history: list[HistoryEvent], start: int) -> list[int]:
    out = episode_outbound("p", "e1", STARTED, history, start, T0, window=2)
    return [o.message.event.event_id for o in out if o.to_work_items]


def test_a_fan_out_sends_work_items_through_the_window() -> None:
    history = _fan_out(5)
    assert _sent(history, 0) == [0, 1]
    mark = len(history)
    history += _answers(1)
    assert _sent(history, mark) == [2]  # one answered, one more released
    mark = len(history)
    history += _answers(0, 2)
    assert _sent(history, mark) == [3, 4]
    mark = len(history)
    history += _answers(3, 4)
    assert _sent(history, mark) == []  # nothing left to release


def test_re_deriving_an_episode_sends_the_same_work_items() -> None:
    history = _fan_out(5) + _answers(0)
    first = episode_outbound("p", "e1", STARTED, history, len(_fan_out(5)), T0, window=2)
    again = episode_outbound("p", "e1", STARTED, history, len(_fan_out(5)), T0, window=2)
    assert [o.message.message_id for o in first] == [o.message.message_id for o in again]
    assert [o.message.event.event_id for o in first] == [2]


def test_a_finished_execution_releases_nothing_held_back() -> None:
    history = _fan_out(5)
    mark = len(history)
    history += [
        HistoryEvent(EventType.OrchestratorStarted, T0),
        HistoryEvent(EventType.TaskCompleted, T0, task_scheduled_id=0, message_id="d-0"),
        HistoryEvent(EventType.ExecutionCompleted, T0, event_id=9,
                     orchestration_status=OrchestrationStatus.Completed, result="1"),
        HistoryEvent(EventType.OrchestratorCompleted, T0),
    ]
    assert _sent(history, mark) == []


def test_other_messages_of_an_episode_are_not_held_back() -> None:
    history = _fan_out(3)
    mark = len(history)
    history += episode()
    out = episode_outbound("p", "e1", STARTED, history, mark, T0, window=2)
    kinds = [o.message.event.event_type for o in out]
    # The timer, the sub-orchestration and the event go out at once; the episode's own
    # activity waits behind the three earlier ones (one answered: one more released).
    assert kinds[:3] == [EventType.TimerFired, EventType.ExecutionStarted, EventType.EventRaised]
    assert [o.message.event.event_id for o in out if o.to_work_items] == [2]


def test_recovery_follows_answers_applied_before_their_copies_were_sent() -> None:
    """A start's episode scheduled an activity; its result was applied in-process (it can be,
    before the work item's copy is sent) and scheduled a retry timer; the timer's firing,
    applied the same way, scheduled the next attempt. Had the host died then, the start's
    redelivery is what is left: its recovery must reach the last episode's work item."""
    from durable.core.registry import DurableRegistry
    from durable.runtime.kinds import Loaded
    from durable.runtime.orchestrations import OrchestrationKind
    from durable.runtime.summary import summarize

    started = HistoryEvent(EventType.ExecutionStarted, T0, name="retrying", instance_id="p",
                           execution_id="e1", message_id="m-start")
    history = [HistoryEvent(EventType.OrchestratorStarted, T0), started,
               HistoryEvent(EventType.TaskScheduled, T0, event_id=0, name="flaky"),
               HistoryEvent(EventType.OrchestratorCompleted, T0)]
    first = [o for o in derive_outbound("p", "e1", started, history[1:], T0)]
    history += [HistoryEvent(EventType.OrchestratorStarted, T0),
                HistoryEvent(EventType.TaskFailed, T0, task_scheduled_id=0,
                             message_id=f"{first[0].message.message_id}:done"),
                HistoryEvent(EventType.TimerCreated, T0, event_id=1, fire_at=T0),
                HistoryEvent(EventType.OrchestratorCompleted, T0)]
    timer = derive_outbound("p", "e1", started, history[-3:], T0)
    assert [o.message.event.event_type for o in timer] == [EventType.TimerFired]
    history += [HistoryEvent(EventType.OrchestratorStarted, T0),
                HistoryEvent(EventType.TimerFired, T0, timer_id=1, fire_at=T0,
                             message_id=timer[0].message.message_id),
                HistoryEvent(EventType.TaskScheduled, T0, event_id=2, name="flaky"),
                HistoryEvent(EventType.OrchestratorCompleted, T0)]
    kind = OrchestrationKind(DurableRegistry())
    loaded = Loaded(history, "etag", summarize(history))
    redelivered = kind.recover("p", loaded, [TaskMessage("m-start", "p", started)], T0)
    sent = [(o.message.event.event_type, o.message.event.event_id) for o in redelivered.outbound]
    assert sent == [(EventType.TaskScheduled, 2)]
    # The middle episode's redelivery (the result's) reaches the same work item.
    middle = TaskMessage(f"{first[0].message.message_id}:done", "p", history[5])
    assert [o.message.event.event_id for o in kind.recover("p", loaded, [middle], T0).outbound
            ] == [2]
