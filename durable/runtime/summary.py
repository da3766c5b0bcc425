"""What committed history says about an instance, read without running user code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from durable.core.history import EventType, HistoryEvent, OrchestrationRuntimeStatus


@dataclass(frozen=True, slots=True)
class HistorySummary:
    started: HistoryEvent | None
    status: OrchestrationRuntimeStatus | None
    message_ids: frozenset[str]

    @property
    def is_terminal(self) -> bool:
        return self.status is not None and self.status.is_terminal


def summarize(history: Sequence[HistoryEvent]) -> HistorySummary:
    started: HistoryEvent | None = None
    status: OrchestrationRuntimeStatus | None = None
    ids: set[str] = set()
    for ev in history:
        if ev.message_id:
            ids.add(ev.message_id)
        kind = ev.event_type
        if kind is EventType.ExecutionStarted:
            started, status = ev, OrchestrationRuntimeStatus.Running
        elif kind is EventType.ExecutionCompleted:
            status = ev.orchestration_status or OrchestrationRuntimeStatus.Completed
        elif kind is EventType.ContinueAsNew:
            status = OrchestrationRuntimeStatus.ContinuedAsNew
        elif kind is EventType.ExecutionSuspended and status is OrchestrationRuntimeStatus.Running:
            status = OrchestrationRuntimeStatus.Suspended
        elif kind is EventType.ExecutionResumed and status is OrchestrationRuntimeStatus.Suspended:
            status = OrchestrationRuntimeStatus.Running
        elif kind is EventType.OrchestratorStarted and ev.data:
            ids.update(ev.data.split(","))
    return HistorySummary(started, status, frozenset(ids))
