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

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from durable.core.actions import Action
from durable.core.history import EventType, HistoryEvent
from durable.core.history_json import events_from_json, to_durable_json
from durable.core.registry import INPUT_TYPE_ATTRIBUTE
from durable.core.replay import OrchestrationSession
from durable.core.status import OrchestrationRuntimeStatus
from durable.errors import HistoryFormatError

# What `replay` takes as a history: events, a JSON file, or a parsed JSON history.
HistorySource: TypeAlias = (
    "Sequence[HistoryEvent] | Sequence[Mapping[str, Any]] | Mapping[str, Any] | str "
    "| os.PathLike[str]"
)

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
    history: HistorySource,
    orchestrator: Callable[..., Any],
    *,
    instance_id: str | None = None,
    input_type: type | None = None,
) -> ReplayOutcome:
    """Replay `history` (one execution, as stored) against `orchestrator`.

    `history` is a list of events, a path to a JSON history file, or a parsed JSON history
    (see `load_history`). Raises `NonDeterminismError` when the code does not match the
    history; otherwise says where the code stands. `input_type` defaults to the trigger's
    `input_type=`.
    """
    events = current_execution(load_history(history))
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


def history_to_json(history: Sequence[HistoryEvent]) -> list[dict[str, Any]]:
    """`history` (e.g. `OrchestrationRun.history`) in the JSON shape `get-history --json`
    exports, ready for `json.dump`: a golden file that `replay` reads back."""
    return to_durable_json(history)


def load_history(source: HistorySource) -> list[HistoryEvent]:
    """The events of `source`: events as they are; a path (text or `Path`) is read as a JSON
    file; parsed JSON (a list of event objects, or an object with a `history` list) in
    Durable Functions' shape or our dump's. `HistoryFormatError` names what does not fit."""
    if isinstance(source, str | os.PathLike):
        return events_from_json(_read_json(Path(source)))
    if isinstance(source, Mapping):
        return events_from_json(source)
    items = list(source)
    if all(isinstance(e, HistoryEvent) for e in items):
        return [e for e in items if isinstance(e, HistoryEvent)]
    return events_from_json(items)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise HistoryFormatError(f"Cannot read the history file {path}: {exc.strerror}.") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise HistoryFormatError(f"The history file {path} is not JSON ({exc}).") from None


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


__all__ = [
    "HistorySource",
    "ReplayOutcome",
    "current_execution",
    "history_to_json",
    "load_history",
    "replay",
]
