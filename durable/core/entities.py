"""Entity addressing and the messages an orchestration exchanges with entities.

An entity is addressed as the instance `@{name lowercased}@{key}` (Durable Functions'
scheduler id). An operation is an EventSent named "op" whose input is a request message;
for `call_entity` the entity answers with an EventRaised named after the request id, whose
input is a response message. Executing entities is a separate piece; this module fixes the
message shapes both sides agree on.

Request: `{"id", "op", "signal", "input" (JSON text or null), "parent" (instance id or null)}`
Response: `{"result": JSON text}` or, for a failed operation,
`{"exceptionType": ..., "result": message, "stackTrace": ...}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from durable.core.history import FailureDetails
from durable.core.task import AtomicTask, failure_error
from durable.errors import SerializationError

ENTITY_OPERATION_EVENT = "op"


@dataclass(frozen=True, slots=True)
class EntityId:
    """Names one entity: its (case-insensitive) entity name and a key."""

    name: str
    key: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"EntityId name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.key, str):
            raise ValueError(f"EntityId key must be a string, got {self.key!r}")

    def get_scheduler_id(self) -> str:
        """The entity's instance id, `@{name lowercased}@{key}`, as Durable Functions has it."""
        return f"@{self.name.lower()}@{self.key}"

    @staticmethod
    def get_entity_id(scheduler_id: str) -> EntityId:
        """Inverse of `get_scheduler_id`."""
        if not scheduler_id.startswith("@") or "@" not in scheduler_id[1:]:
            raise ValueError(f"{scheduler_id!r} is not an entity instance id ('@name@key')")
        name, key = scheduler_id[1:].split("@", 1)
        return EntityId(name, key)

    def __str__(self) -> str:
        return self.get_scheduler_id()


def request_message(
    request_id: str,
    operation: str,
    input_json: str | None,
    *,
    signal: bool,
    parent_instance_id: str | None,
) -> str:
    """The JSON of an operation request, in the shape both sides of the exchange read."""
    return json.dumps(
        {
            "id": request_id,
            "op": operation,
            "signal": signal,
            "input": input_json,
            "parent": parent_instance_id,
        }
    )


def response_message(result_json: str | None, failure: FailureDetails | None = None) -> str:
    """What an entity sends back to a caller (used by the entity executor and by tests)."""
    if failure is None:
        return json.dumps({"result": result_json})
    return json.dumps(
        {
            "exceptionType": failure.error_type,
            "result": failure.error_message,
            "stackTrace": failure.stack_trace,
        }
    )


def parse_response(text: str | None) -> tuple[str | None, FailureDetails | None]:
    """(result JSON text, None) for a successful operation, (None, details) for a failed one."""
    try:
        data: Any = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise SerializationError(f"Entity response is not valid JSON: {text!r}") from exc
    if not isinstance(data, dict):
        raise SerializationError(f"Entity response is not a JSON object: {text!r}")
    if data.get("exceptionType"):
        return None, FailureDetails(
            error_type=str(data["exceptionType"]),
            error_message=str(data.get("result") or data.get("errorMessage") or ""),
            stack_trace=data.get("stackTrace"),
        )
    result = data.get("result")
    return (result if isinstance(result, str) or result is None else json.dumps(result)), None


class EntityCallTask(AtomicTask):
    """The task `call_entity` returns.

    It is completed by the entity's response event, whose payload is a response message
    rather than the bare result.
    """

    def _resolve(self, payload: str | None) -> None:
        try:
            result_json, failure = parse_response(payload)
        except SerializationError as exc:
            self._set_exception(exc)
            return
        if failure is not None:
            self._set_exception(
                failure_error(failure, fallback_message=None, description=self.description)
            )
        else:
            super()._resolve(result_json)
