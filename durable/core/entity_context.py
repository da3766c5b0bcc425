"""`DurableEntityContext`: what an entity function receives, one operation at a time.

The names are the Durable Functions Python SDK's (`entity_name`, `entity_key`,
`operation_name`, `get_input`, `get_state`, `set_state`, `set_result`, `destruct_on_exit`,
`is_newly_constructed`), so entity functions written for it run here unchanged. Like Durable
Functions for .NET, an operation may also signal other entities and start orchestrations;
those messages are sent only if the operation succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from durable.core.entities import EntityId
from durable.core.registry import function_name
from durable.core.serialization import dumps, loads


@dataclass(frozen=True, slots=True)
class EntitySignal:
    """A signal an operation sends to another entity (delivered at `due` when given)."""

    entity: EntityId
    operation: str
    input: str | None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrchestrationStart:
    """An orchestration an operation starts."""

    name: str
    instance_id: str
    input: str | None


class DurableEntityContext:
    """The entity's view of one operation: its state, its input, and its result.

    State is kept as a live value during a batch and written back (as JSON) when each
    operation ends, so an operation that fails leaves the state as it was before it.
    """

    def __init__(self, name: str, key: str, exists: bool, state: Any) -> None:
        self._entity = EntityId(name, key)
        self._exists = exists
        self._state: Any = state
        self._state_json: str | None = None  # state as stored, decoded on first use
        self._state_is_raw = False
        self._state_touched = False
        self._operation: str | None = None
        self._input: str | None = None
        self._result: Any = None
        self._newly_constructed = False
        self._signals: list[EntitySignal] = []
        self._starts: list[OrchestrationStart] = []
        self._new_instance_id: Callable[[], str] = _random_id

    # --- what the SDK offers ---------------------------------------------------------------

    @property
    def entity_name(self) -> str:
        """The entity's name (as its function is registered)."""
        return self._entity.name

    @property
    def entity_key(self) -> str:
        """The entity's key."""
        return self._entity.key

    @property
    def entity_id(self) -> EntityId:
        """The entity's id (name and key)."""
        return self._entity

    @property
    def operation_name(self) -> str | None:
        """The name of the operation being run."""
        if self._operation is None:
            raise RuntimeError("Entity operation is unassigned (no operation is running)")
        return self._operation

    @property
    def is_newly_constructed(self) -> bool:
        """True when the entity had no state before this operation."""
        return self._newly_constructed

    def get_input(self, expected_type: type | None = None) -> Any:
        """The operation's input, decoded from JSON (None when it has none).

        It is decoded as `expected_type` when given.
        """
        return loads(self._input, expected_type)

    def get_state(
        self, initializer: Callable[[], Any] | None = None, expected_type: type | None = None
    ) -> Any:
        """The entity's state, or `initializer()` when it has none.

        The initial value is not stored until `set_state` is called, as in the SDK. The
        stored state is decoded (as `expected_type`, when given) on the first call of a
        batch; later calls return that value.
        """
        self._state_touched = True
        if self._state_is_raw:
            self._state = loads(self._state_json, expected_type)
            self._state_is_raw = False
        if self._state is not None:
            return self._state
        if initializer is None:
            return None
        if not callable(initializer):
            raise TypeError("initializer must be a function that returns the initial state")
        return initializer()

    def set_state(self, state: Any) -> None:
        """Replace the entity's state (it then exists)."""
        self._state_touched = True
        self._exists = True
        self._state = state
        self._state_is_raw = False

    def set_result(self, result: Any) -> None:
        """The value a `call_entity` of this operation returns."""
        self._exists = True
        self._result = result

    def destruct_on_exit(self) -> None:
        """Delete the entity's state when the operation ends (it then no longer exists)."""
        self._state_touched = True
        self._exists = False
        self._state = None
        self._state_is_raw = False

    @classmethod
    def from_json(cls, json_str: str) -> tuple[DurableEntityContext, list[dict[str, Any]]]:
        """Read the SDK's entity-trigger payload: the context and the batch of operations.

        The payload is `{"self": {"name", "key"}, "exists", "state" (JSON text), "batch"}`.
        """
        data = json.loads(json_str)
        context = cls(data["self"]["name"], data["self"]["key"], bool(data.get("exists")), None)
        if data.get("state") is not None:
            context._state_json = data["state"]
            context._state_is_raw = True
        return context, list(data.get("batch") or [])

    # --- what .NET entities may also do ------------------------------------------------------

    def signal_entity(
        self,
        entityId: EntityId,  # noqa: N803 (the SDK's argument names)
        operationName: str,  # noqa: N803
        operationInput: Any = None,  # noqa: N803
        *,
        scheduled_time: datetime | None = None,
    ) -> None:
        """Send an operation to another entity once this operation succeeds.

        With `scheduled_time`, the entity runs it at that time.
        """
        if not isinstance(entityId, EntityId):
            raise TypeError(f"entityId must be an EntityId, got {type(entityId).__name__}")
        if not isinstance(operationName, str) or not operationName:
            raise ValueError(f"operationName must be a non-empty string, got {operationName!r}")
        due = _utc(scheduled_time) if scheduled_time is not None else None
        data = dumps(operationInput, f"input of entity operation '{operationName}'")
        self._signals.append(EntitySignal(entityId, operationName, data, due))

    def start_new_orchestration(
        self, function_name_: Any, input_: Any = None, instance_id: str | None = None
    ) -> str:
        """Start an orchestration once this operation succeeds; its instance id."""
        name = function_name(function_name_, "function_name")
        data = dumps(input_, f"input of orchestrator '{name}'")
        if instance_id is not None and (not isinstance(instance_id, str) or not instance_id
                                        or instance_id.startswith("@")):
            raise ValueError(
                f"instance_id must be a non-empty string not starting with '@', got "
                f"{instance_id!r}"
            )
        iid = instance_id or self._new_instance_id()
        self._starts.append(OrchestrationStart(name, iid, data))
        return iid

    # --- used by the scheduler ---------------------------------------------------------------

    def _begin(self, operation: str, input_json: str | None) -> None:
        self._operation = operation
        self._input = input_json
        self._result = None
        self._state_touched = False
        self._newly_constructed = not self._exists
        self._signals = []
        self._starts = []

    def _load(self, exists: bool, state_json: str | None) -> None:
        """Set the state as stored (decoded only if the operation reads it)."""
        self._exists = exists
        self._state = None
        self._state_json = state_json
        self._state_is_raw = state_json is not None


def _utc(moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"scheduled_time must be a datetime, got {type(moment).__name__}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _random_id() -> str:
    raise RuntimeError("no instance id source is set for this entity context")
