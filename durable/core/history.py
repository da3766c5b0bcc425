"""History events: the one internal model of what happened to an orchestration.

The event types and field names follow Durable Task's (`DurableTask.Core.History`), because
the History table stores them under those names and tools that read a task hub expect them.
Payload fields (`input`, `result`, `details`) hold JSON *text*: the core serializes user
values once, and nothing below it ever parses them again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from durable.core.status import OrchestrationRuntimeStatus, OrchestrationStatus
from durable.errors import FailureDetails

__all__ = [
    "EventType",
    "FailureDetails",
    "HistoryEvent",
    "OrchestrationRuntimeStatus",
    "OrchestrationStatus",
    "ParentInstance",
    "TraceContext",
]


class EventType(IntEnum):
    """Durable Task's event type numbers are part of the wire format; never renumber."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20
    ExecutionRewound = 21


@dataclass(frozen=True, slots=True)
class ParentInstance:
    """The orchestration that started a sub-orchestration, and the task id it waits on."""

    name: str
    instance_id: str
    execution_id: str
    task_schedule_id: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "OrchestrationInstance": {
                "InstanceId": self.instance_id,
                "ExecutionId": self.execution_id,
            },
            "TaskScheduleId": self.task_schedule_id,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ParentInstance:
        inst = data.get("OrchestrationInstance") or {}
        return ParentInstance(
            name=str(data.get("Name") or ""),
            instance_id=str(inst.get("InstanceId") or ""),
            execution_id=str(inst.get("ExecutionId") or ""),
            task_schedule_id=int(data.get("TaskScheduleId", -1)),
        )


@dataclass(frozen=True, slots=True)
class TraceContext:
    """W3C trace context a message carries to the work it starts (DF's
    `DistributedTraceContext`, the `ParentTraceContext` of ExecutionStarted and TaskScheduled).

    Plain text, so the core stays free of any tracing library: `trace_parent` is a W3C
    `traceparent` value, `trace_state` the optional `tracestate`.
    """

    trace_parent: str
    trace_state: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"TraceParent": self.trace_parent}
        if self.trace_state:
            out["TraceState"] = self.trace_state
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> TraceContext:
        state = data.get("TraceState")
        return TraceContext(str(data.get("TraceParent") or ""), str(state) if state else None)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One history event. Which optional fields are set depends on `event_type`:

    ExecutionStarted: name, version, input, instance_id, execution_id, parent, scheduled_start_time
    ExecutionCompleted: orchestration_status, result, failure_details
    ContinueAsNew: result (the new input)
    ExecutionTerminated: input (the reason, as JSON text)
    ExecutionSuspended / ExecutionResumed: reason
    TaskScheduled: name, version, input
    TaskCompleted: task_scheduled_id, result
    TaskFailed: task_scheduled_id, reason, details, failure_details
    SubOrchestrationInstanceCreated: name, version, instance_id, input
    SubOrchestrationInstanceCompleted: task_scheduled_id, result
    SubOrchestrationInstanceFailed: task_scheduled_id, reason, details, failure_details
    TimerCreated: fire_at
    TimerFired: timer_id, fire_at
    EventSent: instance_id (target), name, input
    EventRaised: name, input
    GenericEvent: data

    `trace_context` is the W3C trace context of the work that sent the event (ExecutionStarted,
    TaskScheduled, EventRaised), when tracing is on; it never takes part in replay.

    `event_id` is the action sequence number for events that record an action the
    orchestrator took (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated,
    EventSent, ExecutionCompleted), and -1 for events that arrived from outside.
    `message_id` is the id of the queue message that delivered an inbound event; the
    runtime uses it to recognise a redelivered message and apply it only once.
    """

    event_type: EventType
    timestamp: datetime
    event_id: int = -1
    is_played: bool = False
    name: str | None = None
    version: str | None = None
    input: str | None = None
    result: str | None = None
    reason: str | None = None
    details: str | None = None
    data: str | None = None
    failure_details: FailureDetails | None = None
    task_scheduled_id: int | None = None
    timer_id: int | None = None
    fire_at: datetime | None = None
    instance_id: str | None = None
    execution_id: str | None = None
    parent: ParentInstance | None = None
    orchestration_status: OrchestrationRuntimeStatus | None = None
    scheduled_start_time: datetime | None = None
    tags: dict[str, str] | None = field(default=None, compare=False)
    message_id: str | None = None
    trace_context: TraceContext | None = field(default=None, compare=False)

    def replace(self, **changes: Any) -> HistoryEvent:
        return dataclasses.replace(self, **changes)
