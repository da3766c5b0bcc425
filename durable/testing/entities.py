"""Run entities in memory, for unit tests of entities and of orchestrations that use them.

`run_entity` applies a batch of operations to an entity function with the real entity
decider, the way the runtime does (rollback of failed operations included), and returns
each operation's result and the state after the batch::

    from durable.testing import run_entity

    def test_counter():
        run = run_entity(counter, [("add", 5), ("add", 2), ("get", None)], state=1)
        assert run.results == [6, 8, 8]
        assert run.state == 8

`InMemoryEntities` is what `run_orchestrator(..., entities={...})` uses to answer
`call_entity`, `signal_entity` and `lock` without storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from durable.core.entities import EntityId, EntityRequest, parse_response
from durable.core.entity_context import DurableEntityContext
from durable.core.entity_scheduler import Inbound, Outgoing, run_batch
from durable.core.entity_state import SchedulerState
from durable.core.registry import function_name
from durable.core.serialization import dumps, loads
from durable.errors import FailureDetails

DEFAULT_NOW = datetime(2024, 1, 1, tzinfo=UTC)
Operation = tuple[str, Any]


@dataclass
class EntityRun:
    """The outcome of `run_entity`, for assertions.

    It has a result per operation (None for a failed one, whose error is in `failures` at
    the same position), the state after the batch, whether the entity exists, and the
    signals and starts its operations sent.
    """

    results: list[Any]
    failures: list[FailureDetails | None]
    state: Any
    exists: bool
    signals: list[tuple[str, str, Any]] = field(default_factory=list)
    started: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """The messages of the failed operations, in order."""
        return [f.error_message for f in self.failures if f is not None]


def run_entity(
    entity: Callable[[DurableEntityContext], Any],
    operations: Iterable[Operation],
    state: Any = None,
    *,
    key: str = "key",
    name: str | None = None,
    rollback: bool = True,
    now: datetime = DEFAULT_NOW,
) -> EntityRun:
    """Apply `operations` to an entity whose state is `state` (None: it does not exist).

    Each operation is a (name, input) pair, called as `call_entity` calls it.
    """
    fn = _user_function(entity)
    entity_id = EntityId(name or function_name(entity, "entity"), key)
    scheduler = SchedulerState(
        exists=state is not None, state=dumps(state, "state") if state is not None else None
    )
    inbound = [
        Inbound(f"test:{i}:c", "op", EntityRequest(
            f"op-{i}", op_name, False, dumps(value, f"input of '{op_name}'"), "test"
        ).to_json())
        for i, (op_name, value) in enumerate(operations)
    ]
    outcome = run_batch(entity_id, scheduler, inbound, fn, now, rollback=rollback)
    results: list[Any] = []
    failures: list[FailureDetails | None] = []
    run = EntityRun(results, failures, loads(outcome.state.state), outcome.state.exists)
    for out in outcome.outgoing:
        if out.target == "test":
            result, failure = parse_response(out.payload)
            results.append(loads(result) if failure is None else None)
            failures.append(failure)
        elif out.start is not None:
            run.started.append((out.start.name, loads(out.start.input)))
        else:
            request = EntityRequest.from_json(out.payload)
            run.signals.append((out.target, request.operation or "", loads(request.input)))
    return run


class InMemoryEntities:
    """Entities kept in memory for `run_orchestrator`.

    Every message is applied at once with the real decider; answers for the orchestration
    come back through `deliver`.
    """

    def __init__(
        self,
        functions: Mapping[str, Callable[..., Any]],
        deliver: Callable[[str, str, str | None], None],
    ) -> None:
        self._functions = {n.lower(): _user_function(f) for n, f in functions.items()}
        self._deliver = deliver
        self.states: dict[str, SchedulerState] = {}
        self._counter = 0

    def send(
        self, message_id: str, target: str, event_name: str, payload: str | None, now: datetime
    ) -> None:
        """A message from the orchestration to entity `target` (and whatever it causes).

        `message_id` is the id the runtime would give it (`{execution}:{sequence}:14`), so
        that the in-order delivery of the real decider works as it does deployed.
        """
        pending: list[tuple[str, Outgoing]] = [(message_id, Outgoing(target, event_name,
                                                                      payload))]
        while pending:
            mid, message = pending.pop(0)
            if not message.target.startswith("@"):
                if message.event_name is not None:
                    self._deliver(message.target, message.event_name, message.payload)
                continue
            entity = EntityId.get_entity_id(message.target)
            state = self.states.setdefault(message.target, SchedulerState())
            inbound = Inbound(mid, message.event_name or "", message.payload)
            fn = self._functions.get(entity.name.lower())
            outcome = run_batch(entity, state, [inbound], fn, now,
                                known_entities=sorted(self._functions))
            first = state.sent - len(outcome.outgoing)
            pending.extend(
                (f"{message.target}:{first + i}:e", o)
                for i, o in enumerate(outcome.outgoing) if o.start is None
            )

    def state_of(self, entity: EntityId) -> Any:
        """An entity's state (None when it has none)."""
        state = self.states.get(str(entity))
        return loads(state.state) if state is not None and state.exists else None


def _user_function(fn: Any) -> Callable[..., Any]:
    inner = getattr(fn, "_function", None)
    get_user_function = getattr(inner, "get_user_function", None)
    return get_user_function() if callable(get_user_function) else fn  # type: ignore[no-any-return]


__all__ = ["EntityRun", "InMemoryEntities", "Operation", "run_entity"]
