"""The spans of an orchestration episode, built from its outcome once it is committed.

An episode emits its own span, and, for every execution that ended in it (completed,
failed, terminated, or continued as new), that execution's span: start time from its
ExecutionStarted event, timers and external events as span events at the time the
orchestration received them. Both are emitted only after the commit, so a replay (which
never commits these events again) or a conflict retry never emits one twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from durable.core.history import (
    EventType,
    HistoryEvent,
    OrchestrationRuntimeStatus,
    TraceContext,
)
from durable.runtime import tracing
from durable.runtime.generations import EndedExecution, EpisodeOutcome
from durable.runtime.trace_context import orchestration_context, task_context

EpisodeTrace = Callable[[int, int], None]


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000_000)


@dataclass(frozen=True)
class _Execution:
    instance_id: str
    hub: str
    started: HistoryEvent

    def attributes(self) -> dict[str, str | int]:
        started = self.started
        return tracing.task_attributes("orchestration", started.name or "", self.instance_id,
                                       started.execution_id, self.hub, version=started.version)

    def context(self) -> TraceContext:
        """The execution's orchestration span context (derived, see trace_context.py)."""
        started = self.started
        return orchestration_context(
            self.instance_id, started.execution_id or "", started.trace_context
        )

    def task(self, task_id: int) -> TraceContext:
        """The context of the client span of the execution's task `task_id`."""
        started = self.started
        return task_context(
            self.instance_id, started.execution_id or "", task_id, started.trace_context
        )


def episode_trace(instance_id: str, hub: str, outcome: EpisodeOutcome) -> EpisodeTrace:
    """What to emit once the episode's events are committed: `emit(start_ns, end_ns)`."""
    current = EndedExecution(
        outcome.started, outcome.full_history, outcome.status,
        outcome.failure_details.error_message if outcome.failure_details else None,
        new_from=outcome.start_seq,
    )
    generations = [*outcome.ended_generations, current]
    ended = generations if outcome.status.is_terminal else generations[:-1]
    episode = sum(1 for e in outcome.full_history if e.event_type is EventType.OrchestratorStarted)

    def emit(start_ns: int, end_ns: int) -> None:
        execution = _Execution(instance_id, hub, outcome.started)
        attrs = {**execution.attributes(), tracing.EPISODE: episode,
                 tracing.STATUS: outcome.status.name}
        tracing.emit(tracing.Finished(
            tracing.span_name("episode", outcome.started.name or "", outcome.started.version),
            "internal", attrs, start_ns, end_ns, parent=execution.context(),
        ))
        for generation in generations:
            for span in task_spans(_Execution(instance_id, hub, generation.started), generation):
                tracing.emit(span)
        for generation in ended:
            tracing.emit(_execution_span(_Execution(instance_id, hub, generation.started),
                                         generation, end_ns))

    return emit


def _execution_span(execution: _Execution, ended: EndedExecution, end_ns: int) -> tracing.Finished:
    started = ended.started
    failed = ended.status is OrchestrationRuntimeStatus.Failed
    return tracing.Finished(
        tracing.span_name("orchestration", started.name or "", started.version),
        "server",
        {**execution.attributes(), tracing.STATUS: ended.status.name},
        _ns(started.timestamp),
        end_ns,
        parent=started.trace_context,
        error=(ended.failure or "the orchestration failed") if failed else None,
        events=span_events(ended.history),
        links=[e.trace_context for e in ended.history
               if e.event_type is EventType.EventRaised and e.trace_context is not None],
        own=execution.context(),
    )


def span_events(history: Sequence[HistoryEvent]) -> list[tracing.SpanEvent]:
    """Timers that fired and external events that arrived, at the start of the episode that
    received them (when the orchestration saw them)."""
    out: list[tracing.SpanEvent] = []
    seen = history[0].timestamp if history else None
    for e in history:
        if e.event_type is EventType.OrchestratorStarted:
            seen = e.timestamp
        elif e.event_type is EventType.TimerFired and seen is not None:
            attrs: dict[str, str | int] = {tracing.TYPE: "timer", tracing.TASK_ID: e.timer_id or 0}
            if e.fire_at is not None:
                attrs[tracing.FIRE_AT] = e.fire_at.isoformat()
            out.append(tracing.SpanEvent("timer", _ns(seen), attrs))
        elif e.event_type is EventType.EventRaised and seen is not None:
            out.append(tracing.SpanEvent(
                f"event:{e.name or ''}", _ns(seen),
                {tracing.TYPE: "event", tracing.EVENT_NAME: e.name or ""},
            ))
    return out


# Completions, by the kind of client span they end (activity or sub-orchestration).
_ENDS = {
    EventType.TaskCompleted: ("activity", EventType.TaskScheduled),
    EventType.TaskFailed: ("activity", EventType.TaskScheduled),
    EventType.SubOrchestrationInstanceCompleted: (
        "orchestration", EventType.SubOrchestrationInstanceCreated),
    EventType.SubOrchestrationInstanceFailed: (
        "orchestration", EventType.SubOrchestrationInstanceCreated),
}


def task_spans(execution: _Execution, generation: EndedExecution) -> list[tracing.Finished]:
    """Durable Task's client spans of the tasks this episode received the answer of: from
    scheduling to the episode that received the answer, the parent of the task's own span
    (the activity execution, the sub-orchestration), with ids derived from the task id."""
    history = generation.history
    scheduled = {e.event_id: e for e in history
                 if e.event_type in (EventType.TaskScheduled,
                                     EventType.SubOrchestrationInstanceCreated)}
    out: list[tracing.Finished] = []
    seen = history[0].timestamp if history else None
    for i, e in enumerate(history):
        if e.event_type is EventType.OrchestratorStarted:
            seen = e.timestamp
        end = _ENDS.get(e.event_type)
        if end is None or i < generation.new_from or seen is None:
            continue
        kind, scheduling = end
        task = scheduled.get(e.task_scheduled_id if e.task_scheduled_id is not None else -1)
        if task is None or task.event_type is not scheduling:
            continue
        attrs = {**execution.attributes(), tracing.TYPE: kind,
                 tracing.TASK_NAME: task.name or "", tracing.TASK_ID: task.event_id,
                 tracing.STATUS: "Failed" if e.failure_details else "Completed"}
        if kind == "orchestration":
            attrs[tracing.INSTANCE_ID] = task.instance_id or ""
        attrs.pop(tracing.EXECUTION_ID, None)
        out.append(tracing.Finished(
            tracing.span_name(kind, task.name or "", task.version), "client", attrs,
            _ns(task.timestamp), _ns(seen), parent=execution.context(),
            error=e.failure_details.error_message if e.failure_details else None,
            own=execution.task(task.event_id),
        ))
    return out
