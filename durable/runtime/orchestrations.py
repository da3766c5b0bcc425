"""Orchestrations as a kind of instance: plan with Durable Task's rules, decide by replaying
the orchestrator (live session or full replay), derive the outbox from the new history.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from durable.core.history import EventType, FailureDetails, HistoryEvent
from durable.core.messages import TaskMessage
from durable.core.registry import DurableRegistry
from durable.core.replay import OrchestrationSession
from durable.core.status import OrchestrationRuntimeStatus
from durable.runtime import tracing
from durable.runtime.generations import EpisodeOutcome, run_generations
from durable.runtime.kinds import Decision, Loaded, Recovery
from durable.runtime.orchestration_spans import episode_trace
from durable.runtime.outbox import (
    DISPATCH_WINDOW,
    Outbound,
    answer_ids,
    episode_outbound,
    episode_spans,
    recovery_anchor,
    still_awaited,
)
from durable.runtime.planning import Plan, RowLookup, has_start, plan_orchestration
from durable.runtime.summary import summarize
from durable.runtime.version_gate import VersionGate
from durable.storage.interface import InstanceUpdate

# An orchestrator that continues-as-new without ever waiting would spin forever in one
# episode; past this many generations in one episode the instance fails with a clear error.
MAX_GENERATIONS_PER_EPISODE = 100
# A live orchestrator is worth keeping only while it can still receive events.
_KEPT_LIVE = frozenset({OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended})


class OrchestrationKind:
    """The orchestration half of the pipeline's `InstanceKind` interface."""

    replaces_history = False

    def __init__(
        self,
        registry: DurableRegistry,
        new_execution_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        check: Callable[[], bool] | None = None,
        window: int = DISPATCH_WINDOW,
        http_poll_interval: timedelta | None = None,
        gate: VersionGate | None = None,
        hub_name: str = "",
    ) -> None:
        self._registry = registry
        # Work items of one execution queued and unanswered at most (see outbox.py).
        self._window = window
        # call_http's polling interval for a 202 without Retry-After (host.json).
        self._http_poll_interval = http_poll_interval
        # host.json versioning: which instances this host runs (default: no defaultVersion,
        # CurrentOrOlder, Reject).
        self._gate = gate or VersionGate(None)
        self._hub_name = hub_name
        self._new_execution_id = new_execution_id
        # Whether to check the next live-session episode against a replay (None: never).
        self._check = check

    @staticmethod
    def held(plan: Plan, decision: Decision) -> frozenset[str] | None:
        """One message the commit recorded, whose redelivery makes `recover` re-send this
        episode's outbox (`recovery_anchor`). Nothing recorded: every message waits."""
        batch = ([plan.start] if plan.start is not None else []) + plan.apply
        anchor = recovery_anchor(batch, decision.new_events)
        return None if anchor is None else frozenset({anchor})

    def assumes_new(self, messages: Sequence[TaskMessage]) -> bool:
        """A batch with a start almost always addresses a new instance."""
        return has_start(messages)

    def plan(
        self, instance_id: str, loaded: Loaded, messages: Sequence[TaskMessage], row: RowLookup
    ) -> Plan:
        """Durable Task's rules (see `planning.py`), then the version gate."""
        plan = plan_orchestration(instance_id, loaded.summary, messages, row)
        return self._gate.gate(instance_id, loaded.summary, plan, verified=loaded.verified)

    async def decide(
        self, instance_id: str, loaded: Loaded, plan: Plan, now: datetime
    ) -> Decision:
        """Replay (or resume the live session) with the planned messages."""
        live = loaded.session.session if loaded.session is not None else None
        outcome = run_generations(
            registry=self._registry,
            instance_id=instance_id,
            loaded_history=loaded.history,
            live=live if isinstance(live, OrchestrationSession) else None,
            start=plan.start,
            apply=plan.apply,
            now=now,
            new_execution_id=self._new_execution_id,
            max_generations=MAX_GENERATIONS_PER_EPISODE,
            check=self._check,
            http_poll_interval=self._http_poll_interval,
            default_version=self._gate.host_version,
            version_fault=self._gate.fault(loaded.summary, plan),
        )
        outbound = episode_outbound(
            instance_id, outcome.execution_id, outcome.started, outcome.full_history,
            outcome.start_seq, now, self._window,
        )
        return Decision(
            execution_id=outcome.execution_id,
            new_events=outcome.new_events,
            start_seq=outcome.start_seq,
            replaced=outcome.replaced,
            full_history=outcome.full_history,
            outbound=outbound,
            row=episode_row(outcome, now),
            visible=(outcome.status, outcome.custom_status, outcome.execution_id),
            live=outcome.session if outcome.status in _KEPT_LIVE else None,
            final=outcome.status.is_terminal,
            trace=episode_trace(instance_id, self._hub_name, outcome) if tracing.active()
            else None,
        )

    def recover(
        self, instance_id: str, loaded: Loaded, duplicates: Sequence[TaskMessage], now: datetime
    ) -> Recovery:
        """The outbox of the episode that consumed `duplicates`, minus what history already
        answered, and the row as history says it should be.

        An answer to that outbox which history holds may have been handled in-process and
        applied before its queued copy was sent; if the process died then, this redelivery
        is all that is left to re-send the outbox of the episode that applied it. So the
        episodes that consumed those answers are recovered too, and theirs in turn."""
        started = loaded.summary.started
        if started is None or started.execution_id is None:
            return Recovery()
        history = loaded.history
        spans = episode_spans(history, {m.message_id for m in duplicates})
        out: list[Outbound] = []
        done: set[tuple[int, int]] = set()
        while spans:
            done.update(spans)
            found = [o for begin, end in spans
                     for o in episode_outbound(instance_id, started.execution_id, started,
                                               history[:end], begin, now, self._window)]
            out += found
            spans = [s for s in episode_spans(history, answer_ids(found)) if s not in done]
        if not out and not done:
            return Recovery()
        return Recovery(still_awaited(out, history), repaired_row(history, now))


def episode_row(outcome: EpisodeOutcome, now: datetime) -> InstanceUpdate:
    """The Instances columns an episode's outcome sets."""
    started, status = outcome.started, outcome.status
    return InstanceUpdate(
        execution_id=outcome.execution_id,
        name=started.name or "",
        version=started.version,
        input=started.input,
        created_time=started.timestamp,
        runtime_status=status,
        output=_output_of(status, outcome.output, outcome.failure_details),
        custom_status=outcome.custom_status,
        last_updated_time=now,
        completed_time=now if status.is_terminal else None,
    )


def repaired_row(history: Sequence[HistoryEvent], now: datetime) -> InstanceUpdate | None:
    """The Instances columns committed history implies (None: it implies nothing yet)."""
    summary = summarize(history)
    if summary.started is None or summary.status is None:
        return None
    completed = next(
        (e for e in reversed(history) if e.event_type is EventType.ExecutionCompleted), None
    )
    return InstanceUpdate(
        execution_id=summary.started.execution_id or "",
        name=summary.started.name or "",
        version=summary.started.version,
        input=summary.started.input,
        created_time=summary.started.timestamp,
        runtime_status=summary.status,
        output=_output_of(
            summary.status,
            completed.result if completed else None,
            completed.failure_details if completed else None,
        ),
        last_updated_time=now,
        completed_time=now if summary.status.is_terminal else None,
    )


def _output_of(
    status: OrchestrationRuntimeStatus, output: str | None, failure: FailureDetails | None
) -> str | None:
    if status is OrchestrationRuntimeStatus.Failed and failure is not None:
        return json.dumps(str(failure.error_message))
    return output
