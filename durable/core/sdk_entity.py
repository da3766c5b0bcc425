"""`Entity`: the SDK's way to run an entity function on a trigger payload, on our decider.

The SDK's tests run `Entity(fn).handle(*DurableEntityContext.from_json(payload))` and compare
the `EntityState` JSON it answers with (`entityExists`, `entityState`, `results`, `signals`).
Here the batch runs through the same entity decider as the runtime (`run_batch`), so an
operation that fails leaves the state as it was before it (Durable Functions'
`rollbackEntityOperationsOnExceptions` default) and its result is the error's message, as the
SDK reports it. `duration` is 0: the core has no clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from durable.core.entities import EntityId, EntityRequest, parse_response
from durable.core.entity_context import DurableEntityContext
from durable.core.entity_scheduler import Inbound, run_batch
from durable.core.entity_state import SchedulerState
from durable.core.serialization import dumps, loads

# The batch's time (entity operations here are never scheduled, and nothing is held).
_BATCH_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_CALLER = "sdk-entity-caller"


class OperationResult:
    """One operation's outcome, as the SDK reports it."""

    def __init__(self, is_error: bool, duration: int, result: Any) -> None:
        self.is_error = is_error
        self.duration = duration
        self.result = result

    def to_json(self) -> dict[str, Any]:
        """`isError`, `duration` (ms) and `result` (JSON text)."""
        return {"isError": self.is_error, "duration": self.duration,
                "result": dumps(self.result, "entity operation result")}


class EntityState:
    """What an entity answers with after a batch: the SDK's `EntityState`."""

    def __init__(
        self,
        results: list[OperationResult],
        signals: list[dict[str, Any]],
        entity_exists: bool = False,
        state: Any = None,
    ) -> None:
        self.entity_exists = entity_exists
        self.state = state
        self._results = results
        self._signals = signals

    @property
    def results(self) -> list[OperationResult]:
        """One result per operation of the batch, in order."""
        return self._results

    @property
    def signals(self) -> list[dict[str, Any]]:
        """The signals the batch sent (`target`, `name`, `input`)."""
        return self._signals

    def to_json(self) -> dict[str, Any]:
        """The state as the SDK writes it (`entityState` as JSON text)."""
        return {
            "entityExists": self.entity_exists,
            "entityState": dumps(self.state, "entity state"),
            "results": [r.to_json() for r in self._results],
            "signals": self._signals,
        }

    def to_json_string(self) -> str:
        """`to_json()` as JSON text."""
        return json.dumps(self.to_json())


class Entity:
    """Runs an entity function on an SDK batch (the SDK's `Entity`)."""

    def __init__(self, entity_func: Callable[[DurableEntityContext], Any]) -> None:
        self.fn = entity_func

    def handle(self, context: DurableEntityContext, batch: Sequence[Mapping[str, Any]]) -> str:
        """Run `batch` (the payload's operations) and return the EntityState JSON text."""
        entity = context.entity_id
        scheduler = SchedulerState(exists=context._exists, state=_state_text(context))
        inbound = [
            Inbound(f"{_CALLER}:{i}:c", "op", EntityRequest(
                f"op-{i}", str(item.get("name") or ""), False, _input_text(item.get("input")),
                _CALLER,
            ).to_json())
            for i, item in enumerate(batch)
        ]
        outcome = run_batch(entity, scheduler, inbound, self.fn, _BATCH_TIME)
        state = EntityState([], [], outcome.state.exists, loads(outcome.state.state))
        for out in outcome.outgoing:
            if out.target == _CALLER:
                result, failure = parse_response(out.payload)
                if failure is None:
                    state.results.append(OperationResult(False, 0, loads(result)))
                else:
                    state.results.append(OperationResult(True, 0, failure.error_message))
            elif out.start is None:
                request = EntityRequest.from_json(out.payload)
                target = EntityId.get_entity_id(out.target)
                state.signals.append({
                    "target": {"name": target.name, "key": target.key},
                    "name": request.operation, "input": request.input,
                })
        return state.to_json_string()

    @classmethod
    def create(cls, fn: Callable[[DurableEntityContext], Any]) -> Callable[[Any], str]:
        """The handle the SDK registers: takes the payload (or an object whose `body` is
        it); `handle.entity_function` is `fn`."""

        def handle(context: Any) -> str:
            body = getattr(context, "body", None)
            ctx, batch = DurableEntityContext.from_json(context if body is None else body)
            return Entity(fn).handle(ctx, batch)

        handle.entity_function = fn  # type: ignore[attr-defined]
        return handle


def _state_text(context: DurableEntityContext) -> str | None:
    if context._state_is_raw:
        return context._state_json
    return None if context._state is None else dumps(context._state, "entity state")


def _input_text(raw: object) -> str | None:
    """The extension sends an operation's input as JSON text of the JSON text."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            inner = json.loads(raw)
        except ValueError:
            return raw
        return inner if isinstance(inner, str) else raw
    return json.dumps(raw)
