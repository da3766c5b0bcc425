"""The entity decider: one batch of messages applied to an entity's state, in one pure call.

Input: the entity's `SchedulerState`, the messages that arrived (operation requests, lock
requests, lock releases), the entity function and the time. Output: the new state, the
messages to send (results to callers, signals and orchestration starts the operations
asked for, lock requests passed on to the next entity of a lock set) and a record of each
operation. Nothing here does I/O; the runtime commits the outcome under the entity's ETag,
so each operation's effect on state happens exactly once.

Rules, as Durable Functions has them:
- operations run in the order they arrived, up to `max_operations` per batch (the rest wait
  in the queue, and the batch asks to be woken up again);
- an operation that raises leaves the state as it was before it (with `rollback`), its
  caller gets the error, and its signals and starts are not sent; the batch goes on;
- while an orchestration holds the entity's lock, only its own requests run; the others
  wait in the queue, in order, until it releases the lock;
- a lock request takes the lock and passes the request on to the next entity of the lock
  set (sorted, so that two orchestrations cannot deadlock); the last one answers the
  orchestration that the locks are acquired;
- messages from one sender are applied in the order it sent them: a request names its
  predecessor, and one that arrives first is held until the predecessor is applied (or
  until the reorder window has passed, when the predecessor is taken to be lost).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from durable.core.driver import USER_ERRORS
from durable.core.entities import (
    BATCH_EVENT,
    ENTITY_OPERATION_EVENT,
    LOCK_ACQUIRED,
    RELEASE_EVENT,
    EntityId,
    EntityRequest,
    EntityResponse,
    LockRelease,
    unpack_batch,
)
from durable.core.entity_context import DurableEntityContext, EntitySignal, OrchestrationStart
from durable.core.entity_state import DEFAULT_REORDER_WINDOW, SchedulerState
from durable.core.serialization import dumps
from durable.errors import EntityNotFoundError, FailureDetails, SerializationError

EntityFunction = Callable[[DurableEntityContext], Any]
CONTINUE_EVENT = "continue"
# Starts of orchestrations get ids derived from the request and the start's position.
_START_NAMESPACE = uuid.UUID("0a3a5b1e-7a43-4bb4-8f47-54c1d3c81b52")


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message for the entity: the raised event's name and input."""

    message_id: str
    name: str
    input: str | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the batch sends: `event_name` with `payload` to `target` (its execution
    `execution_id`, visible at `visible_at`), or the start of an orchestration."""

    target: str
    event_name: str | None
    payload: str | None
    execution_id: str | None = None
    visible_at: datetime | None = None
    start: OrchestrationStart | None = None


@dataclass(frozen=True, slots=True)
class OperationRecord:
    """What happened to one operation (for logs, traces and the caller)."""

    request_id: str
    operation: str
    signal: bool
    failure: FailureDetails | None = None


@dataclass
class BatchOutcome:
    """The result of `run_batch`."""

    state: SchedulerState
    outgoing: list[Outgoing] = field(default_factory=list)
    operations: list[OperationRecord] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    # Requests still runnable were left queued (the batch was full): wake the entity again.
    wake_again: bool = False

    @property
    def last_failure(self) -> OperationRecord | None:
        """The last operation that failed, if any (recorded with the entity)."""
        return next((op for op in reversed(self.operations) if op.failure), None)


def run_batch(
    entity: EntityId,
    state: SchedulerState,
    inbound: Sequence[Inbound],
    function: EntityFunction | None,
    now: datetime,
    *,
    max_operations: int = 5000,
    rollback: bool = True,
    known_entities: Sequence[str] = (),
    reorder_window: timedelta = DEFAULT_REORDER_WINDOW,
) -> BatchOutcome:
    """Apply `inbound` to the entity (see the module docstring)."""
    batch = _Batch(entity, state, function, now, max_operations, rollback, known_entities)
    for message in inbound:
        batch.receive(message)
    batch.release_held(expired_before=(now - reorder_window).timestamp())
    batch.drain()
    state.forget_older_than(now - reorder_window)
    batch.outcome.wake_again = batch.ran >= max_operations and any(
        batch.runnable(r) for r in state.queue
    )
    return batch.outcome


class _Batch:
    def __init__(
        self,
        entity: EntityId,
        state: SchedulerState,
        function: EntityFunction | None,
        now: datetime,
        max_operations: int,
        rollback: bool,
        known_entities: Sequence[str],
    ) -> None:
        self.entity = entity
        self.state = state
        self.function = function
        self.now = now
        self.max_operations = max_operations
        self.rollback = rollback
        self.known = known_entities
        self.ran = 0
        self.outcome = BatchOutcome(state)
        self.context = DurableEntityContext(entity.name, entity.key, state.exists, None)
        self.context._load(state.exists, state.state)

    # --- messages ----------------------------------------------------------------------------

    def receive(self, message: Inbound) -> None:
        name = message.name
        if name == BATCH_EVENT:
            try:
                members = unpack_batch(message.input)
            except SerializationError as exc:
                self.state.record(message.message_id, self.now)
                self.note("warning", f"Ignoring a malformed batch to {self.entity}: {exc}")
                return
            for member_id, request_json in members:
                self.receive(Inbound(member_id, ENTITY_OPERATION_EVENT, request_json))
        elif name == RELEASE_EVENT:
            self.state.record(message.message_id, self.now)
            self.release(message)
        elif name == ENTITY_OPERATION_EVENT or name.startswith(ENTITY_OPERATION_EVENT + "@"):
            try:
                request = EntityRequest.from_json(message.input)
            except SerializationError as exc:
                self.state.record(message.message_id, self.now)
                self.note("warning", f"Ignoring a malformed request to {self.entity}: {exc}")
                return
            before = request.predecessor
            if before is not None and not self.state.was_processed(before):
                self.state.held.append((message.message_id, request, self.now.timestamp()))
                return
            self.accept(message.message_id, request)
            self.release_held()
        else:
            self.state.record(message.message_id, self.now)
            if name != CONTINUE_EVENT:
                self.note("warning", f"Ignoring event '{name}' sent to entity {self.entity}")

    def accept(self, message_id: str, request: EntityRequest) -> None:
        """Take a request in order: run it now, or queue it behind what waits."""
        self.state.record(message_id, self.now)
        holder = self.state.locked_by is not None and request.parent == self.state.locked_by
        if self.state.queue and not holder:
            self.state.queue.append(request)  # keep arrival order behind waiting ones
        elif self.runnable(request) and self.ran < self.max_operations:
            self.deliver(request)
        else:
            self.state.queue.append(request)

    def release_held(self, expired_before: float | None = None) -> None:
        """Accept held requests whose predecessor is now applied (or that waited past the
        reorder window), oldest first, until none is left that may go."""
        progress = True
        while progress and self.state.held:
            progress = False
            for entry in list(self.state.held):
                message_id, request, arrived = entry
                ready = request.predecessor is None or self.state.was_processed(
                    request.predecessor
                )
                expired = expired_before is not None and arrived < expired_before
                if ready or expired:
                    if expired and not ready:
                        self.note("warning", f"{self.entity}: the message before "
                                             f"{message_id} never came; applying it anyway")
                    self.state.held.remove(entry)
                    self.accept(message_id, request)
                    progress = True

    def release(self, message: Inbound) -> None:
        try:
            release = LockRelease.from_json(message.input)
        except SerializationError as exc:
            self.note("warning", f"Ignoring a malformed lock release for {self.entity}: {exc}")
            return
        if self.state.locked_by == release.parent:
            self.state.locked_by = None
            self.state.lock_id = None
        else:
            self.note("info", f"{self.entity}: release by '{release.parent}', which holds no "
                              "lock here; ignored")

    def runnable(self, request: EntityRequest) -> bool:
        """Not held back by another orchestration's lock."""
        return self.state.locked_by is None or request.parent == self.state.locked_by

    def drain(self) -> None:
        """Run what waits in the queue and may run now, in order."""
        queue = self.state.queue
        index = 0
        while index < len(queue) and self.ran < self.max_operations:
            request = queue[index]
            if not self.runnable(request):
                if self.state.locked_by is None:
                    break
                index += 1  # skip others' requests while a lock is held
                continue
            queue.pop(index)
            self.deliver(request)
            index = 0

    def deliver(self, request: EntityRequest) -> None:
        if request.is_lock_request:
            self.acquire(request)
        else:
            self.run_operation(request)

    # --- locks -------------------------------------------------------------------------------

    def acquire(self, request: EntityRequest) -> None:
        assert request.lockset is not None
        self.state.locked_by = request.parent
        self.state.lock_id = request.id
        nxt = request.position + 1
        if nxt < len(request.lockset):
            target = request.lockset[nxt]
            forward = EntityRequest(
                request.id, None, False, None, request.parent, request.parent_execution,
                lockset=request.lockset, position=nxt, predecessor=self.predecessor_for(target),
            )
            self.send(Outgoing(target, ENTITY_OPERATION_EVENT, forward.to_json()))
        elif request.parent is not None:
            response = EntityResponse(json.dumps(LOCK_ACQUIRED))
            self.send(Outgoing(request.parent, request.id, response.to_json(),
                               request.parent_execution))

    # --- operations --------------------------------------------------------------------------

    def run_operation(self, request: EntityRequest) -> None:
        self.ran += 1
        operation = request.operation or ""
        ctx = self.context
        before = (self.state.exists, self.state.state)
        ctx._begin(operation, request.input)
        ctx._new_instance_id = _start_ids(request.id)
        failure: FailureDetails | None = None
        result_json: str | None = None
        try:
            if self.function is None:
                raise EntityNotFoundError(self._missing())
            self.function(ctx)
            result_json = dumps(ctx._result, f"result of entity operation '{operation}'")
            self._keep_state(operation)
        except USER_ERRORS as exc:
            failure = FailureDetails.from_exception(exc)
        if failure is not None:
            if self.rollback or not self._try_keep_state(operation):
                self.state.exists, self.state.state = before
                ctx._load(*before)
        else:
            for signal in ctx._signals:
                self.send(self._signal(signal))
            for start in ctx._starts:
                self.send(Outgoing(start.instance_id, None, start.input, start=start))
        self.outcome.operations.append(
            OperationRecord(request.id, operation, request.signal, failure)
        )
        if not request.signal and request.parent is not None:
            response = EntityResponse(result_json, failure)
            self.send(Outgoing(request.parent, request.id, response.to_json(),
                               request.parent_execution))
        elif failure is not None:
            self.note("warning", f"Entity {self.entity}: operation '{operation}' failed: "
                                 f"{failure.error_type}: {failure.error_message}")

    def _keep_state(self, operation: str) -> None:
        """Write the operation's state back as JSON (a value that cannot be written fails
        the operation, so the stored state is never corrupted)."""
        ctx = self.context
        if not ctx._state_touched:
            self.state.exists = ctx._exists
            return
        exists = ctx._exists
        text = dumps(ctx._state, f"state of entity {self.entity} after '{operation}'")
        self.state.exists = exists
        self.state.state = text if exists and ctx._state is not None else None
        if not exists:
            ctx._load(False, None)

    def _try_keep_state(self, operation: str) -> bool:
        try:
            self._keep_state(operation)
        except SerializationError:
            return False
        return True

    def predecessor_for(self, target: str) -> str | None:
        """The id of the last message this entity sent to `target` (for in-order delivery),
        noting the one about to be sent (`send` numbers it `state.sent`) as the new last."""
        last = self.state.last_sent_to.get(target)
        self.state.last_sent_to[target] = [float(self.state.sent), self.now.timestamp()]
        return f"{self.entity}:{int(last[0])}:e" if last is not None else None

    def _signal(self, signal: EntitySignal) -> Outgoing:
        target = str(signal.entity)
        request = EntityRequest(
            id=str(uuid.uuid5(_START_NAMESPACE, f"{self.entity}:{self.state.sent}")),
            operation=signal.operation,
            signal=True,
            input=signal.input,
            parent=str(self.entity),
            due=signal.due,
            predecessor=self.predecessor_for(target) if signal.due is None else None,
        )
        name = ENTITY_OPERATION_EVENT
        if signal.due is not None:
            name = f"{ENTITY_OPERATION_EVENT}@{request.to_dict()['due']}"
        return Outgoing(str(signal.entity), name, request.to_json(), visible_at=signal.due)

    def _missing(self) -> str:
        known = ", ".join(sorted(self.known)) or "none"
        return (
            f"No entity function is registered under the name '{self.entity.name}' (entity "
            f"{self.entity}); entities of this app: {known}. Check the name in the EntityId, "
            "and that the module defining the entity is imported by function_app.py."
        )

    def send(self, message: Outgoing) -> None:
        self.state.sent += 1
        self.outcome.outgoing.append(message)

    def note(self, level: str, text: str) -> None:
        self.outcome.notes.append((level, text))


def _start_ids(request_id: str) -> Callable[[], str]:
    """Instance ids for the orchestrations one operation starts: derived, not random."""
    counter = iter(range(1_000_000))
    return lambda: uuid.uuid5(_START_NAMESPACE, f"{request_id}:{next(counter)}").hex
