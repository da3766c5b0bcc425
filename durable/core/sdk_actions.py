"""The SDK's orchestrator-state JSON: `OrchestratorState` and the action classes.

The Durable Functions Python SDK answers an orchestration trigger with an
`OrchestratorState` (`isDone`, `actions`, `output`, `error`, `customStatus`,
`schemaVersion`), and its own unit tests compare that JSON. These classes have the SDK's
names, constructor arguments and `to_json()` shapes (`actionType` numbers included), so tests
written for the SDK build their expected states with them. Inputs are encoded at
construction, as the SDK encodes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any

from durable.core.entities import EntityId
from durable.core.http import DurableHttpRequest
from durable.core.retry import RetryOptions
from durable.core.serialization import dumps

DATETIME_STRING_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class ReplaySchema(Enum):
    """How actions are grouped: V1 one list per yield, V2 one list of (compound) actions."""

    V1 = 0
    V2 = 1


class ActionType(IntEnum):
    """The SDK's action type numbers, part of the JSON an orchestrator answers with."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    WHEN_ANY = 11
    WHEN_ALL = 12


def _encode(value: Any, where: str) -> str:
    return dumps(value, where)


class Action:
    """One action in an orchestrator state; subclasses say which fields it writes."""

    action_type: ActionType
    # (attribute, JSON key) pairs written when the attribute is set.
    _fields: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The action as the SDK writes it."""
        out: dict[str, Any] = {"actionType": int(self.action_type)}
        for attribute, key in self._fields:
            if hasattr(self, attribute):
                out[key] = getattr(self, attribute)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Action) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()!r})"


class CallActivityAction(Action):
    """`call_activity(function_name, input_)`."""

    action_type = ActionType.CALL_ACTIVITY
    _fields = (("function_name", "functionName"), ("input_", "input"))

    def __init__(self, function_name: str, input_: Any = None) -> None:
        if not function_name:
            raise ValueError("function_name cannot be empty")
        self.function_name = function_name
        self.input_ = _encode(input_, f"input of activity '{function_name}'")


class CallActivityWithRetryAction(CallActivityAction):
    """`call_activity_with_retry(function_name, retry_options, input_)`."""

    action_type = ActionType.CALL_ACTIVITY_WITH_RETRY

    def __init__(
        self, function_name: str, retry_options: RetryOptions, input_: Any = None
    ) -> None:
        super().__init__(function_name, input_)
        self.retry_options = retry_options

    def to_json(self) -> dict[str, Any]:
        """The action, with `retryOptions`."""
        return {**super().to_json(), "retryOptions": self.retry_options.to_json()}


class CallSubOrchestratorAction(Action):
    """`call_sub_orchestrator(function_name, input_, instance_id)`."""

    action_type = ActionType.CALL_SUB_ORCHESTRATOR
    _fields = (
        ("function_name", "functionName"), ("_input", "input"), ("instance_id", "instanceId")
    )

    def __init__(
        self, function_name: str, _input: Any = None, instance_id: str | None = None
    ) -> None:
        if not function_name:
            raise ValueError("function_name cannot be empty")
        self.function_name = function_name
        self._input = _encode(_input, f"input of sub-orchestrator '{function_name}'")
        self.instance_id = instance_id


class CallSubOrchestratorWithRetryAction(CallSubOrchestratorAction):
    """`call_sub_orchestrator_with_retry(function_name, retry_options, input_, instance_id)`."""

    action_type = ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY

    def __init__(
        self,
        function_name: str,
        retry_options: RetryOptions,
        _input: Any = None,
        instance_id: str | None = None,
    ) -> None:
        super().__init__(function_name, _input, instance_id)
        self.retry_options = retry_options

    def to_json(self) -> dict[str, Any]:
        """The action, with `retryOptions`."""
        return {**super().to_json(), "retryOptions": self.retry_options.to_json()}


class CreateTimerAction(Action):
    """`create_timer(fire_at)`; `isCanceled` once the timer task was cancelled."""

    action_type = ActionType.CREATE_TIMER

    def __init__(self, fire_at: datetime, is_cancelled: bool = False) -> None:
        self.fire_at = fire_at
        self.is_cancelled = is_cancelled

    def to_json(self) -> dict[str, Any]:
        """The action, `fireAt` in the SDK's time format."""
        return {
            "actionType": int(self.action_type),
            "fireAt": self.fire_at.strftime(DATETIME_STRING_FORMAT),
            "isCanceled": self.is_cancelled,
        }


class ContinueAsNewAction(Action):
    """`continue_as_new(input_)`."""

    action_type = ActionType.CONTINUE_AS_NEW
    _fields = (("input_", "input"),)

    def __init__(self, input_: Any = None) -> None:
        self.input_ = _encode(input_, "input of continue_as_new")


class WaitForExternalEventAction(Action):
    """`wait_for_external_event(name)`."""

    action_type = ActionType.WAIT_FOR_EXTERNAL_EVENT
    _fields = (("external_event_name", "externalEventName"), ("reason", "reason"))

    def __init__(self, external_event_name: str) -> None:
        if not external_event_name:
            raise ValueError("external_event_name cannot be empty")
        self.external_event_name = external_event_name
        self.reason = "ExternalEvent"


class _EntityAction(Action):
    _fields = (("instance_id", "instanceId"), ("operation", "operation"), ("input_", "input"))

    def __init__(self, entity_id: EntityId, operation: str, input_: Any = None) -> None:
        if not entity_id:
            raise ValueError("entity_id cannot be empty")
        self.entity_id = entity_id
        self.instance_id = EntityId.get_scheduler_id(entity_id)
        self.operation = operation
        self.input_ = _encode(input_, f"input of entity operation '{operation}'")


class CallEntityAction(_EntityAction):
    """`call_entity(entity_id, operation, input_)`."""

    action_type = ActionType.CALL_ENTITY


class SignalEntityAction(_EntityAction):
    """`signal_entity(entity_id, operation, input_)`."""

    action_type = ActionType.SIGNAL_ENTITY


class CallHttpAction(Action):
    """`call_http(...)`: the request as the Python SDK writes it (`httpRequest`)."""

    action_type = ActionType.CALL_HTTP
    # The request fields the SDK's JSON has (the extension's others keep their defaults).
    _request_fields = ("method", "uri", "content", "headers", "tokenSource")

    def __init__(self, http_request: DurableHttpRequest) -> None:
        self.http_request = http_request

    def to_json(self) -> dict[str, Any]:
        """The action with `httpRequest`."""
        request = self.http_request.to_json()
        fields = {k: request[k] for k in self._request_fields if k in request}
        if fields.get("tokenSource") is None:
            fields.pop("tokenSource", None)  # written only when there is one, as the SDK
        return {"actionType": int(self.action_type), "httpRequest": fields}


class CompoundAction(Action):
    """A `task_all` / `task_any` in schema V2: its children's actions, nested."""

    def __init__(self, compound_tasks: Sequence[Action]) -> None:
        self.compound_tasks = list(compound_tasks)

    def to_json(self) -> dict[str, Any]:
        """The action with `compoundActions`."""
        return {
            "actionType": int(self.action_type),
            "compoundActions": [a.to_json() for a in self.compound_tasks],
        }


class WhenAllAction(CompoundAction):
    """`task_all(tasks)` (schema V2)."""

    action_type = ActionType.WHEN_ALL


class WhenAnyAction(CompoundAction):
    """`task_any(tasks)` (schema V2)."""

    action_type = ActionType.WHEN_ANY


class OrchestratorState:
    """What an orchestrator answers with: the SDK's `OrchestratorState`.

    The fields keep the SDK's private names (`_actions`, `_custom_status`, ...), which tests
    written for the SDK set directly when they build an expected state.
    """

    def __init__(
        self,
        is_done: bool,
        actions: list[list[Action]],
        output: Any,
        replay_schema: ReplaySchema | int = ReplaySchema.V1,
        error: str | None = None,
        custom_status: Any = None,
    ) -> None:
        self._is_done = is_done
        self._actions = actions
        self._output = output
        self._replay_schema = ReplaySchema(replay_schema)
        self._error = error
        self._custom_status = custom_status

    @property
    def is_done(self) -> bool:
        """Whether this execution is over (completed, or continued as new)."""
        return self._is_done

    @property
    def actions(self) -> list[list[Action]]:
        """Every action taken so far, grouped as the replay schema says."""
        return self._actions

    @property
    def output(self) -> Any:
        """The orchestrator's return value, once it completed."""
        return self._output

    @property
    def error(self) -> str | None:
        """The error message, when the orchestrator failed."""
        return self._error

    @property
    def custom_status(self) -> Any:
        """The value last given to `set_custom_status`."""
        return self._custom_status

    @property
    def schema_version(self) -> int:
        """The replay schema's number (written only for V2 and later, as the SDK does)."""
        return int(self._replay_schema.value)

    def to_json(self) -> dict[str, Any]:
        """The state as the SDK writes it (`output`, `error`, `customStatus` when set)."""
        out: dict[str, Any] = {"isDone": self._is_done}
        if self._replay_schema is not ReplaySchema.V1:
            out["schemaVersion"] = self.schema_version
        out["actions"] = [[a.to_json() for a in group] for group in self._actions]
        if self._output is not None:
            out["output"] = self._output
        if self._error:
            out["error"] = self._error
        if self._custom_status:
            out["customStatus"] = self._custom_status
        return out

    def to_json_string(self) -> str:
        """`to_json()` as JSON text, custom objects in the SDK's payload format."""
        return json.dumps(self.to_json(), default=_encoded_object)


def _encoded_object(value: Any) -> Any:
    return json.loads(dumps(value, "orchestrator state"))
