"""The `{hub}Instances` table: one row per instance, for status queries and start de-dupe.

The row is a projection of history written after each checkpoint, so it may lag; history
(guarded by its sentinel) stays the source of truth. Primitives only: which statuses may be
overwritten on start is the client's decision.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from durable.core.history import OrchestrationRuntimeStatus
from durable.errors import InstanceConflictError, InstanceNotFoundError
from durable.storage.codec import plain_utc, to_utc
from durable.storage.interface import InstanceRecord, InstanceUpdate
from durable.storage.large_payloads import BLOB_NAME_SUFFIX, LargePayloadStore
from durable.storage.names import blob_prefix, escape_key, unescape_key
from durable.storage.transport import storage_call

_PAYLOAD_COLUMNS = ("Input", "Output", "CustomStatus", "Tags")
# (record attribute, column). Status, tags and times get converted; the rest are as stored.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("execution_id", "ExecutionId"),
    ("name", "Name"),
    ("version", "Version"),
    ("input", "Input"),
    ("output", "Output"),
    ("custom_status", "CustomStatus"),
    ("created_time", "CreatedTime"),
    ("last_updated_time", "LastUpdatedTime"),
    ("completed_time", "CompletedTime"),
    ("runtime_status", "RuntimeStatus"),
    ("scheduled_start_time", "ScheduledStartTime"),
    ("generation", "Generation"),
    ("tags", "Tags"),
    ("task_hub_name", "TaskHubName"),
)
MAX_PAGE_SIZE = 1000


def _to_column(attr: str, value: Any) -> Any:
    if isinstance(value, OrchestrationRuntimeStatus):
        return value.name
    if isinstance(value, datetime):
        return to_utc(value)
    if attr == "tags":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def _from_column(attr: str, value: Any) -> Any:
    if attr == "runtime_status":
        return OrchestrationRuntimeStatus[value]
    if isinstance(value, datetime):
        return plain_utc(value)
    if attr == "tags":
        return {str(k): str(v) for k, v in json.loads(value).items()} if value else None
    if attr == "custom_status":
        return None if value in (None, "null") else value
    if attr == "generation":
        return int(value)
    return value


def encode_token(token: Any) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode("ascii")


def decode_token(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(
            f"continuation_token {token[:40]!r} is not a token this task hub returned"
        ) from None


class InstanceStore:
    def __init__(self, table: TableClient, payloads: LargePayloadStore, hub_name: str) -> None:
        self._table = table
        self._payloads = payloads
        self._hub_name = hub_name

    @property
    def endpoint(self) -> str:
        return str(self._table.url)

    async def _entity(
        self, instance_id: str, values: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """Columns for a write: the hub name always, large payloads moved to blobs, and an
        emptied `{Prop}BlobName` so a merge of a small value hides an older offloaded one."""
        entity: dict[str, Any] = {"PartitionKey": escape_key(instance_id), "RowKey": ""}
        for attr, column in _COLUMNS:
            if attr in values and values[attr] is not None:
                entity[column] = _to_column(attr, values[attr])
        entity["TaskHubName"] = self._hub_name
        written = [c for c in _PAYLOAD_COLUMNS if c in entity]
        moved = await self._payloads.offload_properties(
            entity, f"{blob_prefix(instance_id)}instance", columns=written
        )
        for column in written:
            entity.setdefault(column + BLOB_NAME_SUFFIX, "")
        return entity, moved

    async def _record(self, entity: dict[str, Any]) -> InstanceRecord:
        await self._payloads.fetch_properties(entity)
        values = {
            attr: _from_column(attr, entity[col])
            for attr, col in _COLUMNS
            if entity.get(col) is not None
        }
        metadata = getattr(entity, "metadata", {}) or {}
        return InstanceRecord(
            instance_id=unescape_key(entity["PartitionKey"]),
            etag=metadata.get("etag"),
            **values,
        )

    def _full_values(self, record: InstanceRecord) -> dict[str, Any]:
        values = {attr: getattr(record, attr) for attr, _ in _COLUMNS}
        values["custom_status"] = record.custom_status or "null"
        return values

    @storage_call
    async def get(self, instance_id: str, *, include_input: bool = True) -> InstanceRecord | None:
        select = None if include_input else _columns_without_input()
        try:
            entity = await self._table.get_entity(escape_key(instance_id), "", select=select)
        except ResourceNotFoundError:
            return None
        return await self._record(entity)

    @storage_call
    async def insert(self, record: InstanceRecord) -> str:
        """Create the row of a new instance; `InstanceConflictError` if it exists."""
        entity, moved = await self._entity(record.instance_id, self._full_values(record))
        try:
            meta = await self._table.create_entity(entity)
        except ResourceExistsError:
            await self._payloads.delete(moved)
            raise InstanceConflictError(
                f"instance {record.instance_id!r} already has an Instances row"
            ) from None
        return str(meta["etag"])

    @storage_call
    async def replace(self, record: InstanceRecord, etag: str) -> str:
        """Overwrite the whole row (restart an id) only if it is unchanged since `etag`."""
        entity, moved = await self._entity(record.instance_id, self._full_values(record))
        try:
            return await self._update(record.instance_id, entity, UpdateMode.REPLACE, etag)
        except InstanceConflictError:
            await self._payloads.delete(moved)
            raise

    @storage_call
    async def update_from_episode(
        self, instance_id: str, update: InstanceUpdate, *, etag: str | None = None
    ) -> str:
        """Merge the columns an episode changed: unconditional insert-or-merge by default (as
        DF), or a merge conditional on `etag`."""
        values = {attr: getattr(update, attr) for attr, _ in _COLUMNS if hasattr(update, attr)}
        entity, _ = await self._entity(instance_id, values)
        if etag is None:
            meta = await self._table.upsert_entity(entity, mode=UpdateMode.MERGE)
            return str(meta["etag"])
        return await self._update(instance_id, entity, UpdateMode.MERGE, etag)

    @storage_call
    async def set_status(
        self,
        instance_id: str,
        status: OrchestrationRuntimeStatus,
        *,
        output: str | None = None,
        etag: str | None = None,
        now: datetime | None = None,
    ) -> str:
        """Change the status of an existing row (terminate before start, rewind to Pending).

        `InstanceNotFoundError` if there is no row; `InstanceConflictError` if `etag` is stale.
        """
        stamp = now or datetime.now(UTC)
        values: dict[str, Any] = {"runtime_status": status, "last_updated_time": stamp}
        if status.is_terminal:
            values["completed_time"] = stamp
        if output is not None:
            values["output"] = output
        entity, _ = await self._entity(instance_id, values)
        return await self._update(instance_id, entity, UpdateMode.MERGE, etag)

    async def _update(
        self, instance_id: str, entity: dict[str, Any], mode: UpdateMode, etag: str | None
    ) -> str:
        condition = MatchConditions.IfNotModified if etag else MatchConditions.Unconditionally
        try:
            meta = await self._table.update_entity(
                entity, mode=mode, etag=etag, match_condition=condition
            )
        except HttpResponseError as exc:
            if exc.status_code == 404 and not etag:
                raise InstanceNotFoundError(
                    f"instance {instance_id!r} has no Instances row"
                ) from None
            if exc.status_code in (404, 409, 412):
                raise InstanceConflictError(
                    f"the Instances row of {instance_id!r} changed or was deleted since it "
                    f"was read (ETag {etag})"
                ) from None
            raise
        return str(meta["etag"])

    @storage_call
    async def delete(self, instance_id: str, *, etag: str | None = None) -> bool:
        """Delete the row; False if there was none. One request: a single-op transaction
        reports 404, which a plain delete would swallow."""
        key = {"PartitionKey": escape_key(instance_id), "RowKey": ""}
        options: dict[str, Any] = {}
        if etag:
            options = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            await self._table.submit_transaction([("delete", key, options)])
        except TableTransactionError as exc:
            if exc.status_code == 404:
                return False
            if exc.status_code == 412:
                raise InstanceConflictError(
                    f"the Instances row of {instance_id!r} changed since it was read"
                ) from exc
            raise
        return True

    @storage_call
    async def query(
        self,
        *,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        statuses: Iterable[OrchestrationRuntimeStatus] | None = None,
        instance_id_prefix: str | None = None,
        exclude_entities: bool = False,
        top: int = 100,
        continuation_token: str | None = None,
        include_input: bool = True,
        version: str | None = None,
        name_prefix: str | None = None,
    ) -> tuple[list[InstanceRecord], str | None]:
        """One page of rows matching every given filter, and the token of the next page.
        `version` keeps the rows whose Version column is exactly that text.

        A page may hold fewer than `top` rows (even none) while a token remains: the table
        service stops at partition-range and time limits. Loop until the token is None.
        """
        if not 1 <= top <= MAX_PAGE_SIZE:
            raise ValueError(f"top must be 1..{MAX_PAGE_SIZE}, got {top}")
        query_filter, params = _filter(
            created_from, created_to, statuses, instance_id_prefix, exclude_entities
        )
        if version:
            query_filter = " and ".join(c for c in (query_filter, "Version eq @version") if c)
            params["version"] = version
        query_filter, params = _with_name_prefix(query_filter, params, name_prefix)
        select = None if include_input else _columns_without_input()
        if query_filter:
            pager = self._table.query_entities(
                query_filter, parameters=params, results_per_page=top, select=select
            )
        else:
            pager = self._table.list_entities(results_per_page=top, select=select)
        pages = pager.by_page(continuation_token=decode_token(continuation_token))
        entities: list[Any] = []
        async for page in pages:
            entities = [e async for e in page]
            break
        records = [await self._record(e) for e in entities]
        return records, encode_token(getattr(pages, "continuation_token", None))

    @storage_call
    async def count_by_status(self) -> dict[str, int]:
        """How many orchestration instances (entities left out) have each runtime status:
        one scan of the table reading only the status column."""
        counts: dict[str, int] = {}
        query_filter = "(PartitionKey lt '@' or PartitionKey ge 'A')"
        rows = self._table.query_entities(
            query_filter, select=["RuntimeStatus"], results_per_page=MAX_PAGE_SIZE
        )
        async for row in rows:
            status = str(row.get("RuntimeStatus") or OrchestrationRuntimeStatus.Pending.name)
            counts[status] = counts.get(status, 0) + 1
        return counts


def _with_name_prefix(
    query_filter: str, params: dict[str, Any], prefix: str | None
) -> tuple[str, dict[str, Any]]:
    """Add "the orchestrator name starts with `prefix`" (case-sensitive, as stored)."""
    if not prefix:
        return query_filter, params
    clause = "Name ge @name_low and Name lt @name_high"
    params = {**params, "name_low": prefix, "name_high": prefix[:-1] + chr(ord(prefix[-1]) + 1)}
    return (f"{query_filter} and {clause}" if query_filter else clause), params


def _columns_without_input() -> list[str]:
    columns = ["PartitionKey", "RowKey"] + [c for _, c in _COLUMNS if c != "Input"]
    return columns + [c + BLOB_NAME_SUFFIX for c in _PAYLOAD_COLUMNS if c != "Input"]


def _filter(
    created_from: datetime | None,
    created_to: datetime | None,
    statuses: Iterable[OrchestrationRuntimeStatus] | None,
    prefix: str | None,
    exclude_entities: bool,
) -> tuple[str, dict[str, Any]]:
    """OData as Durable Task's OrchestrationInstanceStatusQueryCondition writes it."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if created_from is not None:
        clauses.append("CreatedTime ge @created_from")
        params["created_from"] = to_utc(created_from)
    if created_to is not None:
        clauses.append("CreatedTime le @created_to")
        params["created_to"] = to_utc(created_to)
    wanted = sorted({s.name for s in statuses or ()})
    if wanted:
        names = [f"@status{i}" for i in range(len(wanted))]
        # Spaces around the parentheses: the SDK finds parameters by splitting on spaces.
        clauses.append("( " + " or ".join(f"RuntimeStatus eq {n}" for n in names) + " )")
        params.update({n[1:]: s for n, s in zip(names, wanted, strict=True)})
    if prefix:
        low = escape_key(prefix)
        clauses.append("PartitionKey ge @prefix_low and PartitionKey lt @prefix_high")
        params["prefix_low"] = low
        params["prefix_high"] = low[:-1] + chr(ord(low[-1]) + 1)
    if exclude_entities:
        clauses.append("(PartitionKey lt '@' or PartitionKey ge 'A')")
    return " and ".join(clauses), params
