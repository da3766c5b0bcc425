"""Entity addressing and the messages entities exchange, in Durable Functions' shapes.

An entity is the instance `@{name lowercased}@{key}` (Durable Functions' scheduler id). An
operation is an `EventRaised` named `op` (or `op@{due time}` for a scheduled signal) whose
input is a request message; a call is answered with an `EventRaised` named after the
request id, whose input is a response message. Locks travel as requests that carry a lock
set, and are given back with an `EventRaised` named `release`.

Request: `{"id", "op", "signal", "input" (JSON text), "parent", "parentExecution", "due",
"lockset", "pos"}`; the optional members are left out when empty.
Response: `{"result": JSON text}` or, for a failed operation, `{"exceptionType": ...,
"result": message, "stackTrace": ...}`. Release: `{"parent", "id"}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from durable.core.critical import CriticalSection
from durable.core.history import FailureDetails
from durable.core.task import AtomicTask, failure_error
from durable.errors import SerializationError

ENTITY_OPERATION_EVENT = "op"
RELEASE_EVENT = "release"
# Several signals from one client to one entity in one message (see client.signal_batches).
BATCH_EVENT = "ops"
# The result of the last lock request of a lock set, as Durable Functions words it.
LOCK_ACQUIRED = "Lock Acquisition Completed"
# The empty key in the HTTP API's paths.
EMPTY_KEY_SYMBOL = "$"


def is_entity_id(instance_id: str) -> bool:
    """Whether an instance id names an entity (`@name@key`) rather than an orchestration."""
    return instance_id.startswith("@") and "@" in instance_id[1:]


class _StaticOrBound:
    """A method that works both as static and as bound.

    The SDK calls `EntityId.get_scheduler_id(eid)`; code written for this library calls
    `eid.get_scheduler_id()`.
    """

    def __init__(self, fn: Any) -> None:
        self._fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, instance: object, owner: type) -> Any:
        if instance is None:
            return self._fn
        return lambda: self._fn(instance)


def _scheduler_id(entity_id: EntityId) -> str:
    """The entity's instance id, `@{name lowercased}@{key}`, as Durable Functions has it."""
    return f"@{entity_id.name.lower()}@{entity_id.key}"


def _url_path(entity_id: EntityId) -> str:
    """The path of the entity under the management API, `entities/{name}/{key}`."""
    return f"entities/{entity_id.name}/{entity_id.key}"


class EntityId:
    """Names one entity: its entity name (matched case-insensitively) and a key.

    As in the SDK, a key that is not a string is accepted and used as `str(key)`; the empty
    key is allowed (the HTTP API spells it `$`), an empty name is a ValueError.
    """

    def __init__(self, name: str, key: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Entity name cannot be empty (got {name!r})")
        if key is None:
            raise ValueError("Entity key cannot be None")
        if "@" in name:
            raise ValueError(f"Entity name {name!r} cannot contain '@'")
        self.name: str = name
        self.key: str = key if isinstance(key, str) else str(key)

    get_scheduler_id = _StaticOrBound(_scheduler_id)
    get_entity_id_url_path = _StaticOrBound(_url_path)

    @staticmethod
    def get_entity_id(scheduler_id: str) -> EntityId:
        """The EntityId an instance id (`@name@key`) names; ValueError for another id."""
        if not isinstance(scheduler_id, str) or not is_entity_id(scheduler_id):
            raise ValueError(f"{scheduler_id!r} is not an entity instance id ('@name@key')")
        name, key = scheduler_id[1:].split("@", 1)
        return EntityId(name, key)

    def __str__(self) -> str:
        return _scheduler_id(self)

    def __repr__(self) -> str:
        return f"EntityId({self.name!r}, {self.key!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EntityId):
            return False
        return self.name == other.name and self.key == other.key

    def __hash__(self) -> int:
        return hash((self.name, self.key))

    def to_json(self) -> dict[str, str]:
        """`{"name", "key"}`, as Durable Functions writes an entity id."""
        return {"name": self.name, "key": self.key}


@dataclass(frozen=True, slots=True)
class EntityRequest:
    """One operation sent to an entity (or one step of a lock request)."""

    id: str
    operation: str | None
    signal: bool = False
    input: str | None = None
    parent: str | None = None
    parent_execution: str | None = None
    due: datetime | None = None
    lockset: tuple[str, ...] | None = None
    position: int = 0
    # The id of the message the same sender sent this entity just before this one: the
    # entity applies this one only after it (in-order delivery per sender).
    predecessor: str | None = None

    @property
    def is_lock_request(self) -> bool:
        """Whether this asks for the locks of a critical section."""
        return self.lockset is not None

    def to_dict(self) -> dict[str, Any]:
        """Durable Functions' member names, empty ones left out."""
        data: dict[str, Any] = {"op": self.operation, "signal": self.signal, "id": self.id}
        data["input"] = self.input
        if self.parent is not None:
            data["parent"] = self.parent
        if self.parent_execution is not None:
            data["parentExecution"] = self.parent_execution
        if self.due is not None:
            data["due"] = self.due.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if self.lockset is not None:
            data["lockset"] = [_lock_member(e) for e in self.lockset]
            data["pos"] = self.position
        if self.predecessor is not None:
            data["predecessor"] = self.predecessor
        return data

    def to_json(self) -> str:
        """The request as the JSON text an `op` event carries."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @staticmethod
    def from_json(text: str | None) -> EntityRequest:
        """Read a request; SerializationError when it is not one."""
        data = _object(text, "Entity request")
        if "id" not in data:
            raise SerializationError(f"Entity request has no 'id': {text!r:.200}")
        lockset = data.get("lockset")
        due = data.get("due")
        return EntityRequest(
            id=str(data["id"]),
            operation=data.get("op"),
            signal=bool(data.get("signal", False)),
            input=data.get("input"),
            parent=data.get("parent"),
            parent_execution=data.get("parentExecution"),
            due=_parse_time(due) if isinstance(due, str) else None,
            lockset=tuple(_lock_id(e) for e in lockset) if isinstance(lockset, list) else None,
            position=int(data.get("pos") or 0),
            predecessor=data.get("predecessor"),
        )


@dataclass(frozen=True, slots=True)
class EntityResponse:
    """The answer to a call (or to a whole lock request): a result or a failure."""

    result: str | None = None
    failure: FailureDetails | None = None

    def to_json(self) -> str:
        """The response as the JSON text the answering event carries."""
        return response_message(self.result, self.failure)


@dataclass(frozen=True, slots=True)
class LockRelease:
    """The end of a critical section: the orchestration gives an entity's lock back."""

    parent: str
    id: str

    def to_json(self) -> str:
        """Durable Functions' release message."""
        return json.dumps({"parent": self.parent, "id": self.id}, separators=(",", ":"))

    @staticmethod
    def from_json(text: str | None) -> LockRelease:
        """Read a release message; SerializationError when it is not one."""
        data = _object(text, "Lock release")
        return LockRelease(str(data.get("parent") or ""), str(data.get("id") or ""))


@dataclass
class EntityStatus:
    """What the Instances row's custom status says about an entity.

    It is Durable Functions' `EntityStatus`, so that listings and clean-up need not parse
    the state.
    """

    entity_exists: bool = False
    queue_size: int = 0
    locked_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Durable Functions' member names, empty members left out."""
        data: dict[str, Any] = {}
        if self.entity_exists:
            data["entityExists"] = True
        if self.queue_size:
            data["queueSize"] = self.queue_size
        if self.locked_by is not None:
            data["lockedBy"] = self.locked_by
        return json.dumps(data, separators=(",", ":"))

    @staticmethod
    def from_json(text: str | None) -> EntityStatus:
        """Read a custom status written by `to_json` (anything else reads as empty)."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        return EntityStatus(
            bool(data.get("entityExists", False)),
            int(data.get("queueSize") or 0),
            data.get("lockedBy"),
        )


def request_message(
    request_id: str,
    operation: str,
    input_json: str | None,
    *,
    signal: bool,
    parent_instance_id: str | None,
) -> str:
    """The JSON of an operation request, in the shape both sides of the exchange read."""
    return EntityRequest(
        request_id, operation, signal, input_json, parent_instance_id
    ).to_json()


def response_message(result_json: str | None, failure: FailureDetails | None = None) -> str:
    """What an entity sends back to a caller."""
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
    data = _object(text, "Entity response")
    if data.get("exceptionType"):
        return None, FailureDetails(
            error_type=str(data["exceptionType"]),
            error_message=str(data.get("result") or data.get("errorMessage") or ""),
            stack_trace=data.get("stackTrace"),
        )
    result = data.get("result")
    return (result if isinstance(result, str) or result is None else json.dumps(result)), None


def unpack_batch(payload: str | None) -> list[tuple[str, str]]:
    """(message id, request JSON) of every request an `ops` message carries."""
    try:
        members = json.loads(payload or "[]")
    except json.JSONDecodeError as exc:
        raise SerializationError(f"Batched entity requests are not valid JSON: {exc}") from exc
    if not isinstance(members, list) or not all(
        isinstance(m, dict) and "messageId" in m for m in members
    ):
        raise SerializationError("Batched entity requests must be a list of requests, each "
                                 "with its messageId")
    return [(str(m.pop("messageId")), json.dumps(m)) for m in members]


def _object(text: str | None, what: str) -> dict[str, Any]:
    try:
        data: Any = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise SerializationError(f"{what} is not valid JSON: {text!r:.200}") from exc
    if not isinstance(data, dict):
        raise SerializationError(f"{what} is not a JSON object: {text!r:.200}")
    return data


def _lock_member(scheduler_id: str) -> dict[str, str]:
    entity = EntityId.get_entity_id(scheduler_id)
    return {"name": entity.name, "key": entity.key}


def _lock_id(member: Any) -> str:
    if isinstance(member, dict):
        return _scheduler_id(EntityId(str(member.get("name")), member.get("key") or ""))
    return str(member)


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class LockTask(AtomicTask):
    """The task `context.lock` returns.

    It is completed when every lock is held, with the critical section as its result.
    """

    def __init__(
        self,
        entities: tuple[str, ...],
        enter: Callable[[Any], None],
        on_schedule: Callable[[AtomicTask], None] | None = None,
    ) -> None:
        super().__init__(None, f"locks of {list(entities)}", on_schedule)
        self._entities = entities
        self._enter = enter
        # The id of the lock request, which names the section (set when it is sent).
        self.request_id = ""

    def _resolve(self, payload: str | None) -> None:
        try:
            _, failure = parse_response(payload)
        except SerializationError as exc:
            self._set_exception(exc)
            return
        if failure is not None:
            self._set_exception(
                failure_error(failure, fallback_message=None, description=self.description)
            )
            return
        section = CriticalSection(self.request_id, self._entities, lambda _s: None)
        self._enter(section)
        self._set_result(section)


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
