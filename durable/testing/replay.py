"""Replaying a recorded history against today's code: golden-history tests and the checks
`durable replay-check` makes before a deployment.

`replay(history, orchestrator)` runs the orchestrator over an execution's history as a host
does after a restart, with nothing new arriving, and raises `NonDeterminismError` (the text
a host would fail the instance with) when the code no longer takes the actions the history
recorded. A finished execution is replayed up to its end, so that code changed after an
instance finished is checked as well. Nothing runs but the orchestrator: no activity, no
storage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from durable.core.actions import Action
from durable.core.history import EventType, HistoryEvent
from durable.core.registry import INPUT_TYPE_ATTRIBUTE
from durable.core.replay import OrchestrationSession
from durable.core.status import OrchestrationRuntimeStatus

# What ends an execution; left out so that the code runs to its end again.
_FINAL = frozenset({EventType.ExecutionCompleted, EventType.ContinueAsNew})


@dataclass(frozen=True)
class ReplayOutcome:
    """Where the code stands after the history: what it would do next, or how it ended."""

    status: OrchestrationRuntimeStatus
    # Actions the code takes beyond what history recorded (new work at its current point).
    new_actions: list[Action] = field(default_factory=list)
    output: str | None = None


def replay(
    history: Sequence[HistoryEvent],
    orchestrator: Callable[..., Any],
    *,
    instance_id: str | None = None,
    input_type: type | None = None,
) -> ReplayOutcome:
    """Replay `history` (one execution, as stored) against `orchestrator`.

    Raises `NonDeterminismError` when the code does not match the history; otherwise says
    where the code stands. `input_type` defaults to the trigger's `input_type=`.
    """
    events = current_execution(history)
    started = next((e for e in events if e.event_type is EventType.ExecutionStarted), None)
    if started is None:
        raise ValueError("the history has no ExecutionStarted event: nothing to replay")
    past = [e for e in events if e.event_type not in _FINAL]
    session = OrchestrationSession(
        orchestrator,
        instance_id or started.instance_id or "replayed-instance",
        past,
        input_type=input_type or getattr(orchestrator, INPUT_TYPE_ATTRIBUTE, None),
    )
    result = session.apply([], events[-1].timestamp)
    if session.fault is not None:
        raise session.fault
    return ReplayOutcome(result.status, list(result.actions), result.output)


def current_execution(history: Sequence[HistoryEvent]) -> list[HistoryEvent]:
    """The events of the last execution in `history` (a history may hold several, one per
    continue-as-new, when it was exported from elsewhere)."""
    starts = [i for i, e in enumerate(history) if e.event_type is EventType.ExecutionStarted]
    if len(starts) <= 1:
        return list(history)
    begin = starts[-1]
    while begin > 0 and history[begin - 1].event_type is EventType.OrchestratorStarted:
        begin -= 1
    return list(history[begin:])


__all__ = ["ReplayOutcome", "current_execution", "replay"]
