"""Where each binding of a function reads or writes, resolved from its declaration when the
plan is built: the storage account, and the binding expressions of its names (templates,
filled in with the trigger's binding data at each invocation)."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.expressions import Template
from emulator.storage import StorageAccount


@dataclass(frozen=True)
class QueueTarget:
    account: StorageAccount
    queue_name: str


@dataclass(frozen=True)
class BlobTarget:
    account: StorageAccount
    connection: str  # the setting's name, for SDK-type bindings
    container: Template
    blob: Template
    data_type: str | None


@dataclass(frozen=True)
class TableTarget:
    account: StorageAccount
    table: Template
    partition_key: Template | None
    row_key: Template | None
    filter: Template | None
    take: int | None


Target = QueueTarget | BlobTarget | TableTarget
