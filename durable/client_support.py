"""Checks and conversions the client shares with the HTTP API and the command line."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from durable.core.history import OrchestrationStatus
from durable.errors import InstanceAlreadyExistsError, InstanceConflictError
from durable.registry import DurableKind, registry
from durable.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus, parse_json_text
from durable.storage.instance_store import InstanceRecord
from durable.storage.taskhub import TaskHub

MAX_INSTANCE_ID_LENGTH = 256
# Statuses in which Durable Functions refuses to start an instance over the existing one.
RUNNING_STATES = frozenset(
    {
        OrchestrationStatus.Pending,
        OrchestrationStatus.Running,
        OrchestrationStatus.Suspended,
        OrchestrationStatus.ContinuedAsNew,
    }
)
FINAL_STATES = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)


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


# --- argument checks: a wrong type is a TypeError, a bad value a ValueError, each naming
# the argument, before anything is sent to storage ------------------------------------------


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


def status_from_record(record: InstanceRecord, show_input: bool) -> DurableOrchestrationStatus:
    return DurableOrchestrationStatus(
        name=record.name,
        instance_id=record.instance_id,
        created_time=record.created_time,
        last_updated_time=record.last_updated_time,
        input_=parse_json_text(record.input) if show_input else None,
        output=parse_json_text(record.output),
        runtime_status=OrchestrationRuntimeStatus(record.runtime_status.name),
        custom_status=parse_json_text(record.custom_status),
    )


def function_name(name: Any, check: bool = True) -> str:
    """The SDK also accepts the decorated function itself."""
    if callable(name):
        name = getattr(name, "durable_function_name", None) or getattr(
            name, "__name__", str(name)
        )
    if not isinstance(name, str):
        raise TypeError(
            "orchestration_function_name must be a str or an orchestrator function, got "
            f"{type(name).__name__}"
        )
    if not name:
        raise ValueError("orchestration_function_name must be a non-empty string")
    known = registry.names(DurableKind.ORCHESTRATOR)
    if check and known and registry.get(DurableKind.ORCHESTRATOR, name) is None:
        raise ValueError(
            f"The orchestrator function '{name}' does not exist in this app "
            f"(orchestrators: {', '.join(known)})."
        )
    return name


async def claim_instance(
    hub: TaskHub, record: InstanceRecord, existing: InstanceRecord | None
) -> None:
    """Write the Pending row before the start message, so a worker that sees the message
    also sees which execution the client meant (a stale start is then recognisable)."""
    iid = record.instance_id
    if existing is not None and existing.runtime_status in RUNNING_STATES:
        raise InstanceAlreadyExistsError(
            f"An orchestration instance with id '{iid}' already exists and is "
            f"{existing.runtime_status.name}. Wait for it to finish, terminate it, or "
            "start with another instance id."
        )
    try:
        if existing is None:
            await hub.instances.insert(record)
        else:
            await hub.instances.replace(record, existing.etag or "*")
    except InstanceConflictError:
        raise InstanceAlreadyExistsError(
            f"Another client started instance '{iid}' at the same time."
        ) from None


async def query_page(
    hub: TaskHub,
    *,
    created_from: datetime | None,
    created_to: datetime | None,
    statuses: list[OrchestrationStatus],
    instance_id_prefix: str | None,
    size: int,
    continuation_token: str | None,
    show_input: bool,
) -> tuple[list[InstanceRecord], str | None]:
    """Up to `size` rows and the next token. The table service may return short (even empty)
    pages while more remain, so this asks again until the page is full or the end."""
    records: list[InstanceRecord] = []
    token = continuation_token
    while len(records) < size:
        got, token = await hub.instances.query(
            created_from=created_from,
            created_to=created_to,
            statuses=statuses,
            instance_id_prefix=instance_id_prefix,
            exclude_entities=True,
            top=size - len(records),
            continuation_token=token,
            include_input=show_input,
        )
        records.extend(got)
        if token is None:
            break
    return records, token
