"""The `{hub}History` table: event-sourced history guarded by a sentinel row's ETag.

The sentinel row (RowKey `sentinel`) is the one place that says what is committed:
`ExecutionId`, `HistoryLength` (events of the current execution) and `HistoryStart` (row of
its first event; 0 except after a large ContinueAsNew, see `_placement`). Every transaction
carries the sentinel, conditional on the ETag its writer last saw, so of two concurrent
writers exactly one wins. A commit over one transaction's limits (100 operations, 4 MB) goes
out in several; only the last advances `HistoryLength`, so a crash midway leaves rows that
readers ignore and the retry overwrites.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from durable.core.history import HistoryEvent
from durable.errors import HistoryConflictError, TaskHubError
from durable.storage import codec
from durable.storage.interface import LoadedHistory
from durable.storage.large_payloads import LargePayloadStore, exceeds_table_limit
from durable.storage.names import SENTINEL_ROW_KEY, blob_prefix, escape_key
from durable.storage.transport import storage_call

MAX_ROWS_PER_BATCH = 99  # plus the sentinel: Azure's 100-operation limit
MAX_BATCH_BYTES = 3 * 1024 * 1024  # under the 4 MB request limit, leaving room for framing
_CACHE_SIZE = 10_000
_DELETE_BATCH = 100


@dataclass(frozen=True, slots=True)
class _Committed:
    """What the sentinel said at a given ETag; lets a commit place rows without a read."""

    etag: str
    start: int
    length: int


def _sentinel_view(entity: dict[str, Any]) -> tuple[int, int | None]:
    start = int(entity.get("HistoryStart") or 0)
    length = entity.get("HistoryLength")
    return start, None if length is None else int(length)


def _estimate_bytes(entity: dict[str, Any]) -> int:
    """Wire size once oversized properties are replaced by blob references."""
    shrunk = {
        k: "x" * 120 if isinstance(v, str) and exceeds_table_limit(v) else v
        for k, v in entity.items()
    }
    return len(json.dumps(shrunk, default=str)) + 200


def _plan_batches(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Transaction boundaries `(lo, hi)`; at least one (a sentinel-only commit)."""
    bounds: list[tuple[int, int]] = []
    lo, size = 0, 0
    for i, row in enumerate(rows):
        row_bytes = _estimate_bytes(row)
        if i > lo and (i - lo >= MAX_ROWS_PER_BATCH or size + row_bytes > MAX_BATCH_BYTES):
            bounds.append((lo, i))
            lo, size = i, 0
        size += row_bytes
    bounds.append((lo, len(rows)))
    return bounds


def _placement(committed: _Committed | None, new_count: int, single_batch: bool) -> int:
    """Where a replacing execution's rows start.

    Row 0, as DF does, whenever the commit is one transaction (atomic, so overwriting the old
    rows is safe). A multi-transaction replacement must not overwrite the committed rows
    before its last transaction, or a crash would leave neither execution readable; it goes
    to rows that hold nothing committed: before the old execution if it fits, else after it.
    """
    if single_batch or committed is None:
        return 0
    if new_count <= committed.start:
        return 0
    return committed.start + committed.length


class HistoryStore:
    def __init__(self, table: TableClient, payloads: LargePayloadStore) -> None:
        self._table = table
        self._payloads = payloads
        self._committed: OrderedDict[str, _Committed] = OrderedDict()

    @property
    def endpoint(self) -> str:
        return str(self._table.url)

    def _remember(self, instance_id: str, state: _Committed | None) -> None:
        self._committed.pop(instance_id, None)
        if state is not None:
            self._committed[instance_id] = state
            if len(self._committed) > _CACHE_SIZE:
                self._committed.popitem(last=False)

    @storage_call
    async def load_history(self, instance_id: str) -> LoadedHistory:
        """The committed events of the current execution, in order, and the sentinel's ETag."""
        pk = escape_key(instance_id)
        rows: list[dict[str, Any]] = []
        sentinel: Any = None
        query = self._table.query_entities("PartitionKey eq @pk", parameters={"pk": pk})
        async for entity in query:
            if entity["RowKey"] == SENTINEL_ROW_KEY:
                sentinel = entity
            else:
                rows.append(entity)
        if sentinel is None:
            self._remember(instance_id, None)
            return LoadedHistory([], None, None, None)
        etag = str(sentinel.metadata["etag"])
        execution_id = sentinel.get("ExecutionId") or None
        start, length = _sentinel_view(sentinel)
        chosen = self._select_rows(instance_id, rows, execution_id, start, length)
        self._remember(instance_id, _Committed(etag, start, len(chosen)))
        await asyncio.gather(
            *(self._payloads.fetch_properties(r) for r in chosen if _has_blob_refs(r))
        )
        events = [codec.entity_to_event(r) for r in chosen]
        return LoadedHistory(events, execution_id if events else None, etag, dict(sentinel))

    @staticmethod
    def _select_rows(
        instance_id: str,
        rows: list[dict[str, Any]],
        execution_id: str | None,
        start: int,
        length: int | None,
    ) -> list[dict[str, Any]]:
        by_seq = {int(r["RowKey"], 16): r for r in rows if _is_hex(r["RowKey"])}
        if length is None:
            # A sentinel without HistoryLength (written by Durable Task itself): DF's rule,
            # rows from 0 while their ExecutionId matches.
            chosen: list[dict[str, Any]] = []
            while start + len(chosen) in by_seq:
                row = by_seq[start + len(chosen)]
                if row.get("ExecutionId") != execution_id:
                    break
                chosen.append(row)
            return chosen
        found = [by_seq.get(start + i) for i in range(length)]
        bad = [
            start + i
            for i, r in enumerate(found)
            if r is None or r.get("ExecutionId") != execution_id
        ]
        if bad:
            raise TaskHubError(
                f"history of instance {instance_id!r} is inconsistent: the sentinel commits "
                f"{length} events of execution {execution_id!r} from row {start}, but rows "
                f"{[codec.row_key(b) for b in bad[:5]]} are missing or belong to another "
                "execution. The History table was changed outside this library."
            )
        return [r for r in found if r is not None]

    @storage_call
    async def read_etag(self, instance_id: str) -> str | None:
        """The sentinel's ETag alone: proves (or disproves) that a cached replay is current."""
        try:
            entity = await self._table.get_entity(
                escape_key(instance_id),
                SENTINEL_ROW_KEY,
                select=["ExecutionId", "HistoryStart", "HistoryLength"],
            )
        except ResourceNotFoundError:
            self._remember(instance_id, None)
            return None
        etag = str(entity.metadata["etag"])
        start, length = _sentinel_view(entity)
        if length is not None:
            self._remember(instance_id, _Committed(etag, start, length))
        return etag

    @storage_call
    async def commit(
        self,
        instance_id: str,
        execution_id: str,
        new_events: Sequence[HistoryEvent],
        expected_etag: str | None,
        start_seq: int,
        replace_execution: bool = False,
    ) -> str:
        """Append `new_events` at `start_seq` (or start a new execution at 0); the new ETag.

        `expected_etag` is the ETag from `load_history`/`commit` (None: no history yet).
        Raises `HistoryConflictError` when another writer got there first; nothing of this
        commit is then visible to readers.
        """
        _check_commit_args(instance_id, expected_etag, start_seq, replace_execution)
        committed = await self._committed_at(instance_id, expected_etag)
        if not replace_execution and committed is not None and start_seq != committed.length:
            raise ValueError(
                f"start_seq {start_seq} does not follow the committed history of instance "
                f"{instance_id!r}, which has {committed.length} events; a gap or an overlap "
                "would corrupt it"
            )
        rows = [codec.event_to_entity(instance_id, execution_id, 0, e) for e in new_events]
        bounds = _plan_batches(rows)
        if replace_execution:
            start = _placement(committed, len(rows), single_batch=len(bounds) == 1)
        else:
            start = committed.start if committed else 0
        for i, row in enumerate(rows):
            row["RowKey"] = codec.row_key(start + start_seq + i)
        blobs = await self._offload(instance_id, rows)
        final = {
            "ExecutionId": execution_id,
            "HistoryStart": start,
            "HistoryLength": start_seq + len(rows),
            "IsCheckpointComplete": True,
            "CheckpointCompletedTimestamp": datetime.now(UTC),
        }
        batches = [rows[lo:hi] for lo, hi in bounds]
        try:
            etag = await self._write_batches(instance_id, batches, expected_etag, final)
        except HistoryConflictError:
            await self._payloads.delete(blobs)
            raise
        self._remember(instance_id, _Committed(etag, start, start_seq + len(rows)))
        return etag

    async def _committed_at(self, instance_id: str, expected_etag: str | None) -> _Committed | None:
        """The committed layout at `expected_etag`, from memory or one point read."""
        if expected_etag is None:
            return None
        known = self._committed.get(instance_id)
        if known is not None and known.etag == expected_etag:
            return known
        etag = await self.read_etag(instance_id)
        if etag != expected_etag:
            raise HistoryConflictError(
                f"history of instance {instance_id!r} changed since it was read "
                f"(expected ETag {expected_etag}, found {etag}); reload and retry"
            )
        return self._committed.get(instance_id) or _Committed(etag, 0, 0)

    async def _offload(self, instance_id: str, rows: list[dict[str, Any]]) -> list[str]:
        prefix = blob_prefix(instance_id)
        uploaded = await asyncio.gather(
            *(
                self._payloads.offload_properties(
                    row, f"{prefix}history-{row['RowKey']}-{row['EventType']}"
                )
                for row in rows
            )
        )
        return [name for names in uploaded for name in names]

    async def _write_batches(
        self,
        instance_id: str,
        batches: list[list[dict[str, Any]]],
        expected_etag: str | None,
        final: dict[str, Any],
    ) -> str:
        pk = escape_key(instance_id)
        etag = expected_etag
        for i, batch in enumerate(batches):
            last = i == len(batches) - 1
            values = final if last else {"IsCheckpointComplete": False}
            if etag is None and not last:
                values = {**values, "HistoryStart": 0, "HistoryLength": 0}
            sentinel = {"PartitionKey": pk, "RowKey": SENTINEL_ROW_KEY, **values}
            ops: list[Any] = [_sentinel_op(sentinel, etag)]
            ops += [("upsert", row, {"mode": UpdateMode.REPLACE}) for row in batch]
            try:
                result = await self._table.submit_transaction(ops)
            except TableTransactionError as exc:
                raise _commit_error(instance_id, exc) from exc
            etag = str(result[0]["etag"])
        assert etag is not None
        return etag

    @storage_call
    async def delete_history(self, instance_id: str) -> int:
        """Delete every row of the instance and its payload blobs (purge); rows deleted."""
        pk = escape_key(instance_id)
        keys = [
            {"PartitionKey": pk, "RowKey": e["RowKey"]}
            async for e in self._table.query_entities(
                "PartitionKey eq @pk", parameters={"pk": pk}, select=["RowKey"]
            )
        ]
        for i in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[i : i + _DELETE_BATCH]
            try:
                await self._table.submit_transaction([("delete", k) for k in chunk])
            except TableTransactionError:
                # Someone else deleted some of them meanwhile; single deletes ignore 404.
                for k in chunk:
                    await self._table.delete_entity(k["PartitionKey"], k["RowKey"])
        await self._payloads.delete_instance(instance_id)
        self._remember(instance_id, None)
        return len(keys)


def _is_hex(key: str) -> bool:
    return len(key) == 16 and all(c in "0123456789ABCDEF" for c in key)


def _has_blob_refs(entity: dict[str, Any]) -> bool:
    return any(k.endswith("BlobName") for k in entity)


def _sentinel_op(sentinel: dict[str, Any], etag: str | None) -> Any:
    if etag is None:
        return ("create", sentinel)
    return (
        "update",
        sentinel,
        {"mode": UpdateMode.MERGE, "etag": etag, "match_condition": MatchConditions.IfNotModified},
    )


def _check_commit_args(
    instance_id: str, expected_etag: str | None, start_seq: int, replace_execution: bool
) -> None:
    if not instance_id:
        raise ValueError("instance_id must not be empty")
    if start_seq < 0:
        raise ValueError(f"start_seq must be >= 0, got {start_seq}")
    if (replace_execution or expected_etag is None) and start_seq != 0:
        what = "replace_execution=True" if replace_execution else "a new instance"
        raise ValueError(f"start_seq must be 0 for {what}, got {start_seq}")


def _commit_error(instance_id: str, exc: TableTransactionError) -> Exception:
    reasons = {
        409: "another writer created its history first",
        412: "another writer committed since it was read",
        404: "its history was deleted since it was read",
    }
    status = exc.status_code
    code = getattr(exc, "error_code", None)
    if status in reasons:
        return HistoryConflictError(
            f"commit of instance {instance_id!r} rejected: {reasons[status]} "
            f"({code}); reload the history and retry"
        )
    return TaskHubError(
        f"commit of instance {instance_id!r} failed: HTTP {status} {code}: {exc.message}"
    )
