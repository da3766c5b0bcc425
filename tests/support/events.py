"""History events for tests: one of every type with the fields it carries, and runs of
numbered ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationStatus,
    ParentInstance,
    TraceContext,
)

T0 = datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def sample_events() -> list[HistoryEvent]:
    """One event of every type, each with the fields that type carries (and then some)."""
    failure = FailureDetails("ValueError", "bad input", "Traceback ...", is_non_retriable=True)
    parent = ParentInstance("parent_orch", "parent-1", "pexec", 3)
    e = HistoryEvent
    return [
        e(EventType.OrchestratorStarted, at(0)),
        e(
            EventType.ExecutionStarted,
            at(1),
            name="orch",
            version="1.0",
            input='{"a": [1, 2, "ü"]}',
            instance_id="inst-1",
            execution_id="exec-1",
            parent=parent,
            scheduled_start_time=at(60),
            tags={"k": "v"},
            message_id="msg-start",
            trace_context=TraceContext(TRACEPARENT, "vendor=1"),
        ),
        e(
            EventType.ExecutionCompleted,
            at(2),
            event_id=7,
            orchestration_status=OrchestrationStatus.Failed,
            result='"done"',
            failure_details=failure,
        ),
        e(EventType.ExecutionFailed, at(3), reason="legacy", details="d"),
        e(EventType.ExecutionTerminated, at(4), input='"stop it"', message_id="msg-term"),
        e(EventType.TaskScheduled, at(5), event_id=0, is_played=True, name="act", input="[1]",
          trace_context=TraceContext(TRACEPARENT)),
        e(EventType.TaskCompleted, at(6), task_scheduled_id=0, result="42", message_id="m6"),
        e(
            EventType.TaskFailed,
            at(7),
            task_scheduled_id=1,
            reason="boom",
            details="stack",
            failure_details=FailureDetails("RuntimeError", "boom"),
        ),
        e(
            EventType.SubOrchestrationInstanceCreated,
            at(8),
            event_id=2,
            name="child",
            version="",
            instance_id="child-1",
            input="null",
        ),
        e(EventType.SubOrchestrationInstanceCompleted, at(9), task_scheduled_id=2, result="{}"),
        e(
            EventType.SubOrchestrationInstanceFailed,
            at(10),
            task_scheduled_id=2,
            reason="child failed",
            details="",
            failure_details=failure,
        ),
        e(EventType.TimerCreated, at(11), event_id=3, fire_at=at(3600)),
        e(EventType.TimerFired, at(12), timer_id=3, fire_at=at(3600)),
        e(EventType.OrchestratorCompleted, at(13), is_played=True),
        e(EventType.EventSent, at(14), event_id=4, instance_id="other", name="ping", input="1"),
        e(EventType.EventRaised, at(15), name="approval", input="true", message_id="m15"),
        e(EventType.ContinueAsNew, at(16), event_id=5, result='{"n": 2}'),
        e(EventType.GenericEvent, at(17), data="rewound"),
        e(EventType.HistoryState, at(18)),
        e(EventType.ExecutionSuspended, at(19), reason="pause"),
        e(EventType.ExecutionResumed, at(20), reason="go"),
        e(EventType.ExecutionRewound, at(21), reason="retry", instance_id="inst-1"),
    ]


def numbered_events(count: int, name: str = "act", start: int = 0) -> list[HistoryEvent]:
    return [
        HistoryEvent(EventType.TaskScheduled, at(i), event_id=start + i, name=f"{name}{start + i}")
        for i in range(count)
    ]
