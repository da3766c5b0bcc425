"""The client's writes and reads of the Instances table: claiming a row for a start, and
paging through rows for status queries."""

from __future__ import annotations

from datetime import datetime

from durable.core.status import OrchestrationRuntimeStatus
from durable.errors import InstanceAlreadyExistsError, InstanceConflictError
from durable.storage.interface import InstanceRecord, TaskHubStorage


async def claim_instance(
    hub: TaskHubStorage, record: InstanceRecord, existing: InstanceRecord | None
) -> None:
    """Write the Pending row before the start message, so a worker that sees the message
    also sees which execution the client meant (a stale start is then recognisable)."""
    iid = record.instance_id
    if existing is not None and existing.runtime_status.is_running:
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
    hub: TaskHubStorage,
    *,
    created_from: datetime | None,
    created_to: datetime | None,
    statuses: list[OrchestrationRuntimeStatus],
    instance_id_prefix: str | None,
    size: int,
    continuation_token: str | None,
    show_input: bool,
    version: str | None = None,
    name_prefix: str | None = None,
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
            version=version,
            name_prefix=name_prefix,
        )
        records.extend(got)
        if token is None:
            break
    return records, token
