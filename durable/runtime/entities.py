"""Entities as a kind of instance: a batch of operations per episode, committed as one write.

An entity's history is its last batch, written over the previous one (as a continue-as-new
would): `OrchestratorStarted`, `ExecutionStarted` (name `@{entity name}`, input the
scheduler state, a new execution id per batch), one `EventSent` per message the batch sends
(or `SubOrchestrationInstanceCreated` for an orchestration an operation starts), and
`OrchestratorCompleted`. The Instances row keeps the scheduler state in `Input` (where
Durable Functions keeps it), Durable Functions' `EntityStatus` in `CustomStatus`, and the
last failed operation in `Output`.

Exactly once: the scheduler state records which messages were applied, so a redelivered
one is skipped, and every state change commits under the ETag with the messages it sends.
The outbox of a batch is sent before the Instances row is written, so a row naming the
current batch proves its messages left; a host that finds history whose batch the row
does not name (the previous host died between commit and send) sends that outbox again
with its own, under the same message ids, which the receivers de-duplicate. A batch that
would start from this process's live session while its predecessor's sends are still going
out waits for them first (`replaces_history`): its history replaces the one that records
them. If they failed, it starts from storage, and so sends them again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from durable.core import events as ev
from durable.core.entities import EntityId, EntityStatus
from durable.core.entity_context import DurableEntityContext
from durable.core.entity_scheduler import (
    CONTINUE_EVENT,
    BatchOutcome,
    EntityFunction,
    Inbound,
    OperationRecord,
    Outgoing,
    run_batch,
)
from durable.core.entity_state import SchedulerState
from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.core.registry import DurableKind, DurableRegistry
from durable.core.status import OrchestrationRuntimeStatus
from durable.runtime import tracing
from durable.runtime.entity_spans import batch_trace
from durable.runtime.kinds import Decision, Loaded, Recovery
from durable.runtime.outbox import Outbound
from durable.runtime.planning import UNREAD, Plan, RowLookup
from durable.storage.interface import InstanceRecord, InstanceUpdate

_OUTBOX_TYPES = frozenset({EventType.EventSent, EventType.SubOrchestrationInstanceCreated})


class EntityKind:
    """The entity half of the pipeline's `InstanceKind` interface."""

    replaces_history = True

    def __init__(
        self,
        registry: DurableRegistry,
        *,
        max_operations: int,
        rollback: bool,
        reorder_window: timedelta,
        new_execution_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        default_version: str | None = None,
        hub_name: str = "",
    ) -> None:
        self._registry = registry
        # host.json defaultVersion: the version of orchestrations entities start.
        self._default_version = default_version
        self._hub_name = hub_name
        self._max_operations = max_operations
        self._rollback = rollback
        self._reorder_window = reorder_window
        self._new_execution_id = new_execution_id

    @staticmethod
    def held(plan: Plan, decision: Decision) -> frozenset[str] | None:
        """None: an entity batch's messages all wait for its tail; its recovery
        (`Plan.resend_last`) is built on every message of an unsent batch coming back."""
        return None

    def assumes_new(self, messages: Sequence[TaskMessage]) -> bool:
        """Entities are created by their first message; there is no start to assume by."""
        return False

    def plan(
        self, instance_id: str, loaded: Loaded, messages: Sequence[TaskMessage], row: RowLookup
    ) -> Plan:
        """Apply every operation, lock and release not applied before; a state read from
        storage asks for the row, to learn whether the last outbox was sent."""
        started = loaded.summary.started
        cold = loaded.verified and loaded.session is None and started is not None
        if cold and row is UNREAD:
            return Plan(needs_row=True)
        state = _state_of(loaded)
        plan = Plan()
        seen: set[str] = set()
        for msg in messages:
            if msg.event.event_type is not EventType.EventRaised:
                plan.notes.append(("warning", f"Dropping {msg.event.event_type.name} sent to "
                                              f"entity {instance_id}: entities take only "
                                              "operations"))
            elif state.has_applied(msg.message_id) or msg.message_id in seen:
                plan.duplicates.append(msg)
            else:
                seen.add(msg.message_id)
                plan.apply.append(msg)
        if started is not None and isinstance(row, InstanceRecord):
            plan.resend_last = row.execution_id != started.execution_id
        return plan

    async def decide(
        self, instance_id: str, loaded: Loaded, plan: Plan, now: datetime
    ) -> Decision:
        """Run the batch (user code) and build what to commit."""
        entity = EntityId.get_entity_id(instance_id)
        state = _state_of(loaded)
        inbound = [Inbound(m.message_id, m.event.name or "", m.event.input) for m in plan.apply]
        function = self._function(entity)
        # On the event loop, as orchestrator code runs: entity functions are meant to be
        # quick state changes (waiting work belongs in activities), and a thread hop per
        # batch costs more than a typical batch.
        outcome = run_batch(
            entity,
            state,
            inbound,
            function,
            now,
            max_operations=self._max_operations,
            rollback=self._rollback,
            known_entities=self._registry.names(DurableKind.ENTITY),
            reorder_window=self._reorder_window,
        )
        if outcome.wake_again:
            outcome.outgoing.append(Outgoing(instance_id, CONTINUE_EVENT, None))
            outcome.state.sent += 1
        carried = _outbox_rows(loaded.history) if plan.resend_last else []
        decision = self._decision(instance_id, entity, loaded, outcome, carried, now)
        if tracing.active():
            decision.trace = batch_trace(instance_id, self._hub_name, plan.apply, outcome)
        return decision

    def recover(
        self, instance_id: str, loaded: Loaded, duplicates: Sequence[TaskMessage], now: datetime
    ) -> Recovery:
        """Send the last batch's outbox again: the redelivered messages were applied by it
        or an earlier batch, and the host that committed it may have died before sending."""
        started = loaded.summary.started
        repair = None
        if started is not None and started.execution_id is not None:
            # The host may also have died before the row that confirms the batch: the
            # row's state would stay behind history's until the entity's next operation.
            entity = EntityId.get_entity_id(instance_id)
            repair = _row_of(entity, _state_of(loaded), started.execution_id,
                             started.timestamp, now, failure=None)
        return Recovery(outbound_of(instance_id, _outbox_rows(loaded.history)), repair)

    # --- building the batch's history ------------------------------------------------------

    def _function(self, entity: EntityId) -> Callable[[DurableEntityContext], object] | None:
        registered = self._registry.get(DurableKind.ENTITY, entity.name)
        if registered is None:
            return None
        return registered.call

    def _decision(
        self,
        instance_id: str,
        entity: EntityId,
        loaded: Loaded,
        outcome: BatchOutcome,
        carried: list[HistoryEvent],
        now: datetime,
    ) -> Decision:
        execution_id = self._new_execution_id()
        state_json = outcome.state.to_json()
        first = loaded.summary.started
        # Each batch replaces the history, so its ExecutionStarted carries the time the
        # entity was first created forward (the row's CreatedTime).
        created = first.timestamp if first is not None else now
        rows = [
            ev.orchestrator_started(now),
            ev.execution_started(
                created,
                name=entity_instance_name(entity),
                instance_id=instance_id,
                input=state_json,
                execution_id=execution_id,
            ),
            *carried,
            *_rows_of(outcome, now, start=outcome.state.sent - len(outcome.outgoing),
                      version=self._default_version),
            ev.orchestrator_completed(now),
        ]
        row = _row_of(entity, outcome.state, execution_id, created, now,
                      failure=outcome.last_failure)
        return Decision(
            execution_id=execution_id,
            new_events=rows,
            start_seq=0,
            replaced=bool(loaded.history) or loaded.etag is not None,
            full_history=rows,
            outbound=outbound_of(instance_id, [r for r in rows if r.event_type in _OUTBOX_TYPES]),
            row=row,
            visible=(execution_id,),
            live=state_json,
            row_after_sends=True,
        )


def entity_instance_name(entity: EntityId) -> str:
    """The Name column of an entity's Instances row: `@{entity name}`."""
    return f"@{entity.name.lower()}"


def _row_of(
    entity: EntityId,
    state: SchedulerState,
    execution_id: str,
    created: datetime,
    now: datetime,
    failure: OperationRecord | None,
) -> InstanceUpdate:
    """The Instances row of an entity whose scheduler state is `state`."""
    status = EntityStatus(state.exists, len(state.queue), state.locked_by)
    return InstanceUpdate(
        execution_id=execution_id,
        name=entity_instance_name(entity),
        input=state.to_json(),
        runtime_status=OrchestrationRuntimeStatus.Running,
        custom_status=status.to_json(),
        created_time=created,
        last_updated_time=now,
        output=_failure_json(failure) if failure is not None else None,
    )


def _state_of(loaded: Loaded) -> SchedulerState:
    started = loaded.summary.started
    return SchedulerState.from_json(started.input if started is not None else None)


def _outbox_rows(history: Sequence[HistoryEvent]) -> list[HistoryEvent]:
    return [e for e in history if e.event_type in _OUTBOX_TYPES]


def _rows_of(
    outcome: BatchOutcome, now: datetime, start: int, version: str | None = None
) -> list[HistoryEvent]:
    rows: list[HistoryEvent] = []
    for number, out in enumerate(outcome.outgoing, start=start):
        if out.start is not None:
            rows.append(ev.sub_orchestration_created(
                now, event_id=number, name=out.start.name, instance_id=out.target,
                input=out.payload, version=version,
            ))
        else:
            rows.append(HistoryEvent(
                EventType.EventSent, now, event_id=number, instance_id=out.target,
                name=out.event_name, input=out.payload, fire_at=out.visible_at,
                execution_id=out.execution_id,
            ))
    return rows


def outbound_of(instance_id: str, rows: Sequence[HistoryEvent]) -> list[Outbound]:
    """The messages recorded outbox rows stand for; ids `{entity}:{number}:e`, so that the
    receivers recognise a message sent again."""
    out: list[Outbound] = []
    for row in rows:
        mid = f"{instance_id}:{row.event_id}:e"
        target = row.instance_id or ""
        if row.event_type is EventType.SubOrchestrationInstanceCreated:
            start = ev.execution_started(
                row.timestamp, name=row.name or "", instance_id=target, input=row.input,
                execution_id=uuid.uuid5(uuid.NAMESPACE_OID, mid).hex, version=row.version,
            )
            out.append(Outbound(TaskMessage(mid, target, start, start.execution_id)))
            continue
        raised = ev.event_raised(row.timestamp, name=row.name or "", input=row.input).replace(
            fire_at=row.fire_at
        )
        message = TaskMessage(mid, target, raised, row.execution_id, instance_id)
        out.append(Outbound(message, visible_at=row.fire_at))
    return out


def _failure_json(record: OperationRecord) -> str:
    """What the row's Output says of the last failed operation (a signal has no caller to
    tell, so this is where its failure stays visible)."""
    details = record.failure
    return json.dumps(
        {
            "operation": record.operation,
            "errorType": details.error_type if details else "",
            "errorMessage": details.error_message if details else "",
        }
    )


__all__ = ["EntityFunction", "EntityKind", "entity_instance_name", "outbound_of"]
