"""Argument checks the client shares with the HTTP API and the command line: a wrong type
is a TypeError and a bad value a ValueError, each naming the argument, before anything is
sent to storage."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from durable.core.registry import DurableKind, DurableRegistry, function_name
from durable.core.status import OrchestrationRuntimeStatus

MAX_INSTANCE_ID_LENGTH = 256


def validate_instance_id(instance_id: str) -> None:
    """Reject ids Durable Functions rejects, naming the problem."""
    if not isinstance(instance_id, str):
        raise TypeError(f"instance_id must be a str, got {type(instance_id).__name__}")
    if not instance_id.strip():
        raise ValueError("instance_id must be a non-empty string")
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise ValueError(
            f"instance_id is {len(instance_id)} characters long; the limit is "
            f"{MAX_INSTANCE_ID_LENGTH}"
        )
    if instance_id.startswith("@"):
        raise ValueError("instance_id must not start with '@' (reserved for entities)")
    for ch in instance_id:
        if ch in "/\\#?":
            raise ValueError(f"instance_id {instance_id!r} contains {ch!r}; '/', '\\', '#' "
                             "and '?' are not allowed")
        if unicodedata.category(ch) == "Cc":
            raise ValueError(f"instance_id contains the control character U+{ord(ch):04X}")


def instance_id_arg(value: object, argument: str = "instance_id") -> str:
    """An id to look up: any non-empty string (what a start accepted, or not)."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{argument} must be a non-empty string")
    return value


def text_arg(value: object, argument: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        kind = "a str" if required else "a str or None"
        raise TypeError(f"{argument} must be {kind}, got {type(value).__name__}")
    if required and not value:
        raise ValueError(f"{argument} must be a non-empty string")
    return value


def flag_arg(value: object, argument: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{argument} must be a bool, got {type(value).__name__}")
    return value


def time_arg(value: object, argument: str) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"{argument} must be a datetime or None, got {type(value).__name__}")
    return value


def statuses_arg(value: object, argument: str) -> list[OrchestrationRuntimeStatus] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple | set | frozenset) or not all(
        isinstance(s, OrchestrationRuntimeStatus) for s in value
    ):
        raise TypeError(
            f"{argument} must be a list of OrchestrationRuntimeStatus (e.g. "
            f"[OrchestrationRuntimeStatus.Running]) or None, got {value!r:.80}"
        )
    return list(value)


def number_arg(value: object, argument: str, *, minimum: float = 0,
               integer: bool = False) -> float:
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds):
        kind = "an int" if integer else "a number"
        raise TypeError(f"{argument} must be {kind}, got {type(value).__name__}")
    if not value >= minimum:  # also rejects NaN
        raise ValueError(f"{argument} must be at least {minimum:g}, got {value!r}")
    return value


def orchestrator_name_arg(value: object, functions: DurableRegistry | None) -> str:
    """The orchestrator a start names: a name or the decorated function (the SDK accepts
    both), checked against the app's orchestrators when the process has loaded the app."""
    if not isinstance(value, str) and not callable(value):
        raise TypeError(
            "orchestration_function_name must be a str or an orchestrator function, got "
            f"{type(value).__name__}"
        )
    if value == "":
        raise ValueError("orchestration_function_name must be a non-empty string")
    name = function_name(value, "orchestration_function_name")
    if functions is not None:
        functions.require(DurableKind.ORCHESTRATOR, name)
    return name
