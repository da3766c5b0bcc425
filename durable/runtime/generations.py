"""Run user orchestrator code for one episode, across continue-as-new generations.

This is the runtime's only contact with the pure core: it turns planned messages into new
history events, runs the replay engine, and when the orchestration continues as new, starts
the next generation right away in the same episode (as Durable Task does), so no message is
needed to begin it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from durable.core import events as ev
from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    OrchestrationRuntimeStatus,
)
from durable.core.messages import TaskMessage
from durable.core.registry import DurableKind, DurableRegistry
from durable.core.replay import OrchestrationSession
from durable.errors import OrchestrationError, OrchestratorNotFoundError, VersionMismatchError
from durable.runtime import verification


@dataclass
class EpisodeOutcome:
    """What running the orchestrator did in one episode: the events to commit (from row
    `start_seq`, or a replacing execution), the state the Instances row shows, and the live
    session to keep for the next episode."""

    execution_id: str
    started: HistoryEvent
    new_events: list[HistoryEvent]
    start_seq: int
    replaced: bool
    full_history: list[HistoryEvent]
    status: OrchestrationRuntimeStatus
    output: str | None
    failure_details: FailureDetails | None
    custom_status: str | None
    session: OrchestrationSession
    generations: int


def _inbound(msg: TaskMessage) -> HistoryEvent:
    return msg.event.replace(message_id=msg.message_id, event_id=-1, is_played=False)


def _session_for(
    registry: DurableRegistry,
    name: str,
    instance_id: str,
    past: Sequence[HistoryEvent] = (),
    custom_status: str | None = None,
    override: Callable[[Any], Any] | None = None,
    default_version: str | None = None,
    http_poll_interval: timedelta | None = None,
) -> OrchestrationSession:
    """A session of orchestrator `name`, or of `override` (an orchestrator that fails)."""
    fn = registry.get(DurableKind.ORCHESTRATOR, name)
    orchestrator = override or _orchestrator_for(registry, name)
    return OrchestrationSession(
        orchestrator, instance_id, past, custom_status=custom_status,
        input_type=fn.input_type if fn is not None else None,
        default_version=default_version,
        http_poll_interval=http_poll_interval,
    )


def _orchestrator_for(registry: DurableRegistry, name: str) -> Callable[[Any], Any]:
    fn = registry.get(DurableKind.ORCHESTRATOR, name)
    if fn is not None:
        return fn.call

    def missing(_context: Any) -> Any:
        known = ", ".join(registry.names(DurableKind.ORCHESTRATOR)) or "none"
        raise OrchestratorNotFoundError(
            f"The orchestrator function '{name}' does not exist in this app "
            f"(orchestrators: {known})."
        )

    return missing


def run_generations(
    *,
    registry: DurableRegistry,
    instance_id: str,
    loaded_history: Sequence[HistoryEvent],
    live: OrchestrationSession | None,
    start: TaskMessage | None,
    apply: Sequence[TaskMessage],
    now: datetime,
    new_execution_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    max_generations: int = 100,
    check: Callable[[], bool] | None = None,
    default_version: str | None = None,
    version_fault: str | None = None,
    http_poll_interval: timedelta | None = None,
) -> EpisodeOutcome:
    """Apply `start`/`apply` to the instance (on `live` when the cache has it, else on a
    session that replays `loaded_history`), running every generation a continue-as-new
    starts until one waits or finishes. `check` says whether to check an episode served
    from `live` against a replay of the history (see verification.py). `default_version`
    is the version of children started without one; `version_fault`, when set, fails the
    instance with it instead of running its code (the version gate's `Fail`)."""
    inbound = [_inbound(m) for m in apply]
    if start is not None:
        started = _inbound(start)
        past: list[HistoryEvent] = []
        new = [started, *inbound]
        replaced = bool(loaded_history)
        session: OrchestrationSession | None = None
    else:
        started = next(e for e in loaded_history if e.event_type is EventType.ExecutionStarted)
        past = list(loaded_history)
        new = inbound
        replaced = False
        session = live
    name = started.name or ""
    replay: OrchestrationSession | None = None
    if version_fault is not None:
        session = _session_for(registry, name, instance_id, past,
                               override=_version_mismatch(version_fault))
    elif session is None:
        session = _session_for(registry, name, instance_id, past,
                               default_version=default_version,
                               http_poll_interval=http_poll_interval)
    elif check is not None and check():
        replay = _session_for(registry, name, instance_id, session.history,
                              default_version=default_version,
                              http_poll_interval=http_poll_interval)
    result = session.apply(new, now)
    if replay is not None:
        replayed = replay.apply(new, now)
        difference = verification.divergence(result, replayed)
        if difference is not None:
            verification.report(instance_id, name, difference, replayed)
            session, result = replay, replayed
    consumed = [m.message_id for m in ([start] if start else []) + list(apply)]
    generations = 0
    while result.status is OrchestrationRuntimeStatus.ContinuedAsNew:
        generations += 1
        started = ev.execution_started(
            now,
            name=name,
            instance_id=instance_id,
            execution_id=new_execution_id(),
            input=result.output,
            parent=started.parent,
            version=started.version,
        )
        too_many = generations > max_generations
        session = _session_for(
            registry, name, instance_id, custom_status=result.custom_status,
            override=_too_many_generations(max_generations) if too_many else None,
            default_version=default_version,
            http_poll_interval=http_poll_interval,
        )
        result = session.apply([started], now)
        first = result.new_history[0].replace(data=",".join(consumed))
        result.new_history[0] = first
        past, replaced = [], True
    execution_id = started.execution_id or ""
    new_events = list(result.new_history)
    return EpisodeOutcome(
        execution_id=execution_id,
        started=started,
        new_events=new_events,
        start_seq=len(past),
        replaced=replaced,
        full_history=[*past, *new_events],
        status=result.status,
        output=result.output,
        failure_details=result.failure_details,
        custom_status=result.custom_status,
        session=session,
        generations=generations,
    )


def _version_mismatch(message: str) -> Callable[[Any], Any]:
    def fail(_context: Any) -> Any:
        raise VersionMismatchError(message)

    return fail


def _too_many_generations(limit: int) -> Callable[[Any], Any]:
    def fail(_context: Any) -> Any:
        raise OrchestrationError(
            f"The orchestration continued as new more than {limit} times in one episode "
            "without waiting for anything. Yield a timer or another task between "
            "continue_as_new calls."
        )

    return fail
