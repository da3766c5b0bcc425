"""Table input and output bindings, with the Functions Tables extension's semantics.

Input (`@app.table_input`): with both `partition_key` and `row_key`, the entity as a JSON
object (None if there is no such row); otherwise a JSON array of the entities `filter`
selects (an OData filter, ANDed with `PartitionKey eq ...` when a partition key is given),
at most `take` of them. Python functions get the JSON text, as the worker passes it.
An entity's JSON has `PartitionKey`, `RowKey`, `Timestamp` and its properties.

Output (`@app.table_output`): a JSON object or array (text, or a dict / list) of entities;
`PartitionKey` / `RowKey` in an entity (any case) win over the binding's. Entities are
inserted (an existing row fails the write), in transactions of up to 100 per partition, and
the table is created when missing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import EntityProperty, TableEntity
from azure.data.tables.aio import TableServiceClient

MAX_BATCH = 100
_KEYS = ("PartitionKey", "RowKey")


def quote(value: str) -> str:
    """A string literal for an OData filter."""
    return "'" + value.replace("'", "''") + "'"


async def read(service: TableServiceClient, table: str, partition_key: str | None,
               row_key: str | None, query: str | None, take: int | None) -> str | None:
    """The binding's value: one entity's JSON (or None), or a JSON array of entities."""
    client = service.get_table_client(table)
    if partition_key and row_key:
        try:
            entity = await client.get_entity(partition_key, row_key)
        except ResourceNotFoundError:
            return None
        return json.dumps(entity_json(entity))
    clauses = [f"PartitionKey eq {quote(partition_key)}"] if partition_key else []
    if query:
        clauses.append(f"({query})" if clauses else query)
    limit = take if take and take > 0 else None
    rows: list[dict[str, Any]] = []
    try:
        pager = (client.query_entities(" and ".join(clauses), results_per_page=limit)
                 if clauses else client.list_entities(results_per_page=limit))
        async for entity in pager:
            rows.append(entity_json(entity))
            if limit is not None and len(rows) >= limit:
                break
    except ResourceNotFoundError:
        return "[]"
    return json.dumps(rows)


def entity_json(entity: TableEntity) -> dict[str, Any]:
    result: dict[str, Any] = {key: entity.get(key) for key in _KEYS}
    stamp = entity.metadata.get("timestamp")
    if isinstance(stamp, datetime):
        result["Timestamp"] = _iso(stamp)
    for key, value in entity.items():
        if key not in _KEYS:
            result[key] = _json_value(value)
    return result


def _iso(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, EntityProperty):
        value = value.value
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def entities(value: Any, partition_key: str | None, row_key: str | None) -> list[dict[str, Any]]:
    """The entities a table output value stands for; ValueError says what is wrong."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the table output is not valid JSON: {exc}") from None
    items = value if isinstance(value, list) else [value]
    return [_entity(item, partition_key, row_key) for item in items]


def _entity(item: Any, partition_key: str | None, row_key: str | None) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"a table output entity must be a JSON object, got {item!r}")
    keys = {"PartitionKey": partition_key, "RowKey": row_key}
    entity: dict[str, Any] = {}
    for name, value in item.items():
        canonical = next((k for k in _KEYS if k.lower() == str(name).lower()), None)
        if canonical is not None:
            keys[canonical] = None if value is None else str(value)
        elif isinstance(value, (dict, list)):
            raise ValueError(f"table entity property '{name}' is an object or list; "
                             "only strings, numbers and booleans can be stored")
        else:
            entity[str(name)] = value
    for name, key in keys.items():
        if not key:
            argument = "partition_key" if name == "PartitionKey" else "row_key"
            raise ValueError(f"a table output entity has no {name}: set it in the entity or "
                             f"the binding's {argument}")
        entity[name] = key
    return entity


async def ensure_table(service: TableServiceClient, table: str) -> None:
    with contextlib.suppress(ResourceExistsError):
        await service.create_table(table)


async def write(service: TableServiceClient, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert the rows (the table must exist: see ensure_table)."""
    client = service.get_table_client(table)
    for batch in _batches(rows):
        try:
            await client.submit_transaction([("create", row) for row in batch])
        except HttpResponseError as exc:
            raise RuntimeError(f"writing to table '{table}' failed: "
                               f"{str(exc).splitlines()[0]}") from None


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Per partition, in order, at most MAX_BATCH rows and no row key twice in one batch."""
    partitions: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        partitions.setdefault(row["PartitionKey"], []).append(row)
    for members in partitions.values():
        batch: list[dict[str, Any]] = []
        seen: set[str] = set()
        for row in members:
            if len(batch) >= MAX_BATCH or row["RowKey"] in seen:
                yield batch
                batch, seen = [], set()
            batch.append(row)
            seen.add(row["RowKey"])
        if batch:
            yield batch
