"""The SDK's entity classes (`azure.durable_functions.models.entities`).

`EntityState` and `OperationResult` are what `Entity(fn).handle` answers with.
`RequestMessage` (one request to an entity) and `Signal` (a signal an entity sends) are the
SDK's shapes of those messages; the runtime and `Entity(fn).handle` read entity messages
with their own types, so these two are for code and tests written against the SDK.
"""

from __future__ import annotations

import json
from typing import Any

from durable.core.entities import EntityId
from durable.core.sdk_entity import EntityState, OperationResult
from durable.errors import SerializationError

__all__ = ["EntityState", "OperationResult", "RequestMessage", "Signal"]


class RequestMessage:
    """A request to an entity, with the members of the entity request JSON.

    `id_` is the request id, `name` the operation, `signal` whether it is one-way,
    `input_` the input as JSON text, `parent` the sending orchestration, `lockset` the
    entities a lock request takes (in order) and `pos` its place in that list. Other keyword
    arguments are accepted and ignored, as in the SDK.
    """

    def __init__(
        self,
        id_: str,
        name: str | None = None,
        signal: bool | None = None,
        input_: str | None = None,
        arg: Any | None = None,
        parent: str | None = None,
        lockset: list[EntityId] | None = None,
        pos: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.id = id_
        self.name = name
        self.signal = signal
        self.input = input_
        self.arg = arg
        self.parent = parent
        self.lockset = lockset
        self.pos = pos

    @classmethod
    def from_json(cls, json_str: str) -> RequestMessage:
        """Read a request from its JSON text (`id`, `name`, `signal`, `input`, `parent`,
        `lockset`, `pos`; `id` and `input` become `id_` and `input_`)."""
        try:
            data = json.loads(json_str)
            data["id_"] = data.pop("id")
        except (TypeError, ValueError, KeyError, AttributeError):
            raise SerializationError(
                f"An entity request must be a JSON object with an 'id' member; got {json_str!r}."
            ) from None
        if "input" in data:
            data["input_"] = data.pop("input")
        return cls(**data)

    def __repr__(self) -> str:
        return f"RequestMessage(id_={self.id!r}, name={self.name!r})"


class Signal:
    """A signal to an entity: its target, the operation name and the input (JSON text)."""

    def __init__(self, target: EntityId, name: str, input_: str) -> None:
        self._target = target
        self._name = name
        self._input = input_

    @property
    def target(self) -> EntityId:
        """The entity the signal goes to."""
        return self._target

    @property
    def name(self) -> str:
        """The operation the signal asks for."""
        return self._name

    @property
    def input(self) -> str:
        """The operation's input, as JSON text."""
        return self._input

    def __repr__(self) -> str:
        return f"Signal({self._target!r}, {self._name!r})"
