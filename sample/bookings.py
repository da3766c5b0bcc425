"""The `Bookings` table: where the sample's pretend travel services record what they did.

Every booking, cancellation, failed flight attempt, e-mail and expense report is a row, so
the effect of each activity (and of each retry) can be seen in Azure Storage Explorer or
through `GET /api/bookings`. Rows live in the app's own storage account
(`AzureWebJobsStorage`), in the table named by the app setting `BOOKINGS_TABLE`.

PartitionKey is the trip id, RowKey says what the row is (`conference`, `flight`,
`flight-attempt-2`, `email-ada@example.com`, ...). Writes are upserts keyed by what they
describe, so an activity that runs twice (activities run at least once) leaves one row.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from typing import Any

from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from durable.storage.settings import resolve_connection_string

DEFAULT_TABLE = "Bookings"
# Characters Table storage does not allow in keys.
_KEY_FORBIDDEN = str.maketrans({c: "_" for c in "/\\#?\t\n\r"})
# Columns every row has besides the keys, in the order GET /api/bookings shows them.
_SYSTEM_COLUMNS = ("PartitionKey", "RowKey")

_lock = threading.Lock()
_tables: dict[tuple[str, str], TableClient] = {}


def table_name() -> str:
    return os.environ.get("BOOKINGS_TABLE") or DEFAULT_TABLE


def table() -> TableClient:
    """The Bookings table, created on first use (one client per process and table)."""
    connection = resolve_connection_string("AzureWebJobsStorage", os.environ)
    key = (connection, table_name())
    with _lock:
        client = _tables.get(key)
        if client is None:
            service = TableServiceClient.from_connection_string(connection)
            client = service.create_table_if_not_exists(table_name())
            _tables[key] = client
        return client


def row_key(*parts: str) -> str:
    """A RowKey from readable parts, with the characters Table storage rejects replaced."""
    return "-".join(parts).translate(_KEY_FORBIDDEN)


def record(trip_id: str, key: str, **columns: Any) -> None:
    """Insert or replace one row of a trip, stamped with the time it was written."""
    entity = {"PartitionKey": trip_id, "RowKey": key, **columns}
    entity["RecordedAt"] = datetime.now(UTC)
    table().upsert_entity(entity, mode=UpdateMode.REPLACE)


def update(trip_id: str, key: str, **columns: Any) -> None:
    """Change some columns of an existing row (fails if there is no such row)."""
    entity = {"PartitionKey": trip_id, "RowKey": key, **columns}
    table().update_entity(entity, mode=UpdateMode.MERGE)


def count(trip_id: str, key_prefix: str) -> int:
    """How many rows of a trip have a RowKey starting with `key_prefix`."""
    query = f"PartitionKey eq {_quote(trip_id)} and {_prefix_filter('RowKey', key_prefix)}"
    return sum(1 for _ in table().query_entities(query, select=["RowKey"]))


def rows(trip: str | None = None) -> list[dict[str, Any]]:
    """The rows of one trip and its sub-trips (`{trip}-1`, `{trip}-2`, ...), or all rows.

    Values are made JSON-friendly (datetimes as ISO 8601 text)."""
    client = table()
    if trip:
        query = f"PartitionKey eq {_quote(trip)} or ({_prefix_filter('PartitionKey', trip + '-')})"
        found = client.query_entities(query)
    else:
        found = client.list_entities()
    return [_plain(entity) for entity in found]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _prefix_filter(column: str, prefix: str) -> str:
    """An OData filter for `column` starting with `prefix` (a key range scan)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return f"{column} ge {_quote(prefix)} and {column} lt {_quote(upper)}"


def _plain(entity: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {name: entity[name] for name in _SYSTEM_COLUMNS}
    for name, value in entity.items():
        if name in out:
            continue
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out
