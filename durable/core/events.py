"""Constructors for history events, so that nobody has to remember which optional fields of
`HistoryEvent` a given event type uses (the engine, the runtime and tests all build them).
"""

from __future__ import annotations

from datetime import datetime

from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationRuntimeStatus,
    ParentInstance,
)


def orchestrator_started(timestamp: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.OrchestratorStarted, timestamp)


def orchestrator_completed(timestamp: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.OrchestratorCompleted, timestamp)


def execution_started(
    timestamp: datetime,
    *,
    name: str,
    instance_id: str,
    input: str | None = None,
    execution_id: str | None = None,
    parent: ParentInstance | None = None,
    version: str | None = None,
    scheduled_start_time: datetime | None = None,
) -> HistoryEvent:
    return HistoryEvent(
        EventType.ExecutionStarted,
        timestamp,
        name=name,
        instance_id=instance_id,
        input=input,
        execution_id=execution_id,
        parent=parent,
        version=version,
        scheduled_start_time=scheduled_start_time,
    )


def execution_completed(
    timestamp: datetime,
    *,
    event_id: int,
    status: OrchestrationRuntimeStatus,
    result: str | None = None,
    failure_details: FailureDetails | None = None,
) -> HistoryEvent:
    return HistoryEvent(
        EventType.ExecutionCompleted,
        timestamp,
        event_id=event_id,
        orchestration_status=status,
        result=result,
        failure_details=failure_details,
    )


def continue_as_new(timestamp: datetime, *, event_id: int, new_input: str | None) -> HistoryEvent:
    return HistoryEvent(
        EventType.ContinueAsNew,
        timestamp,
        event_id=event_id,
        orchestration_status=OrchestrationRuntimeStatus.ContinuedAsNew,
        result=new_input,
    )


def execution_terminated(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    """`reason` is JSON text, as it becomes the instance's output."""
    return HistoryEvent(EventType.ExecutionTerminated, timestamp, input=reason)


def execution_suspended(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.ExecutionSuspended, timestamp, reason=reason)


def execution_resumed(timestamp: datetime, reason: str | None = None) -> HistoryEvent:
    return HistoryEvent(EventType.ExecutionResumed, timestamp, reason=reason)


def task_scheduled(
    timestamp: datetime, *, event_id: int, name: str, input: str | None = None
) -> HistoryEvent:
    return HistoryEvent(
        EventType.TaskScheduled, timestamp, event_id=event_id, name=name, input=input
    )


def task_completed(
    timestamp: datetime, *, task_scheduled_id: int, result: str | None = None
) -> HistoryEvent:
    return HistoryEvent(
        EventType.TaskCompleted, timestamp, task_scheduled_id=task_scheduled_id, result=result
    )


def task_failed(
    timestamp: datetime, *, task_scheduled_id: int, failure_details: FailureDetails
) -> HistoryEvent:
    return HistoryEvent(
        EventType.TaskFailed,
        timestamp,
        task_scheduled_id=task_scheduled_id,
        reason=failure_details.error_message,
        details=failure_details.stack_trace,
        failure_details=failure_details,
    )


def sub_orchestration_created(
    timestamp: datetime,
    *,
    event_id: int,
    name: str,
    instance_id: str,
    input: str | None = None,
    version: str | None = None,
) -> HistoryEvent:
    return HistoryEvent(
        EventType.SubOrchestrationInstanceCreated,
        timestamp,
        event_id=event_id,
        name=name,
        instance_id=instance_id,
        input=input,
        version=version,
    )


def sub_orchestration_completed(
    timestamp: datetime, *, task_scheduled_id: int, result: str | None = None
) -> HistoryEvent:
    return HistoryEvent(
        EventType.SubOrchestrationInstanceCompleted,
        timestamp,
        task_scheduled_id=task_scheduled_id,
        result=result,
    )


def sub_orchestration_failed(
    timestamp: datetime, *, task_scheduled_id: int, failure_details: FailureDetails
) -> HistoryEvent:
    return HistoryEvent(
        EventType.SubOrchestrationInstanceFailed,
        timestamp,
        task_scheduled_id=task_scheduled_id,
        reason=failure_details.error_message,
        details=failure_details.stack_trace,
        failure_details=failure_details,
    )


def timer_created(timestamp: datetime, *, event_id: int, fire_at: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.TimerCreated, timestamp, event_id=event_id, fire_at=fire_at)


def timer_fired(timestamp: datetime, *, timer_id: int, fire_at: datetime) -> HistoryEvent:
    return HistoryEvent(EventType.TimerFired, timestamp, timer_id=timer_id, fire_at=fire_at)


def event_sent(
    timestamp: datetime, *, event_id: int, instance_id: str, name: str, input: str | None = None
) -> HistoryEvent:
    return HistoryEvent(
        EventType.EventSent,
        timestamp,
        event_id=event_id,
        instance_id=instance_id,
        name=name,
        input=input,
    )


def event_raised(timestamp: datetime, *, name: str, input: str | None = None) -> HistoryEvent:
    """`input` is JSON text of the event's data."""
    return HistoryEvent(EventType.EventRaised, timestamp, name=name, input=input)
