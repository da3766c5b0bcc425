"""The narrow storage interface: what the runtime and the client see of a task hub.

Protocols for the history (event-sourced rows under one ETag), the Instances rows, the
queues and the large-payload blobs, and the data that crosses them. `TaskHub` is the Azure
Storage implementation; nothing above this package needs to know which SDK it uses, and a
reader of the runtime sees every storage call it can make here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from durable.core.history import HistoryEvent
from durable.core.messages import TaskMessage
from durable.core.status import OrchestrationRuntimeStatus


@dataclass(frozen=True, slots=True)
class LoadedHistory:
    """The committed events of an instance's current execution and the sentinel's ETag,
    which the next commit must present."""

    events: list[HistoryEvent]
    execution_id: str | None
    etag: str | None
    sentinel: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """An Instances row. Payloads are JSON text; `custom_status` None means unset."""

    instance_id: str
    name: str | None = None
    runtime_status: OrchestrationRuntimeStatus = OrchestrationRuntimeStatus.Pending
    execution_id: str | None = None
    version: str | None = None
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    created_time: datetime | None = None
    last_updated_time: datetime | None = None
    completed_time: datetime | None = None
    scheduled_start_time: datetime | None = None
    generation: int = 0
    tags: dict[str, str] | None = None
    task_hub_name: str | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class InstanceUpdate:
    """Columns to merge into a row after an episode; None leaves a column as it is."""

    execution_id: str | None = None
    name: str | None = None
    version: str | None = None
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    created_time: datetime | None = None
    last_updated_time: datetime | None = None
    completed_time: datetime | None = None
    runtime_status: OrchestrationRuntimeStatus | None = None
    scheduled_start_time: datetime | None = None
    generation: int | None = None
    tags: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to send, hidden for `delay` first (a timer, a deferred message)."""

    message: TaskMessage
    delay: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A queued message held by this process: enough to renew its lease or delete it."""

    message: TaskMessage
    queue_name: str
    queue_message_id: str
    pop_receipt: str
    dequeue_count: int
    inserted_on: datetime | None
    sequence_number: int


class HistoryStorage(Protocol):
    """The History table: one instance's events, committed under its sentinel's ETag."""

    async def load_history(self, instance_id: str) -> LoadedHistory:
        """The committed events of the current execution, in order, and the ETag."""
        ...

    async def read_etag(self, instance_id: str) -> str | None:
        """The sentinel's ETag alone (None: no history)."""
        ...

    async def commit(
        self,
        instance_id: str,
        execution_id: str,
        new_events: list[HistoryEvent],
        expected_etag: str | None,
        start_seq: int,
        replace_execution: bool = False,
    ) -> str:
        """Append (or start a new execution) if nobody wrote since `expected_etag`; the new
        ETag, or `HistoryConflictError`."""
        ...

    async def delete_history(self, instance_id: str) -> int:
        """Delete every row and payload blob of the instance; rows deleted."""
        ...


class InstanceStorage(Protocol):
    """The Instances table: one row per instance, a projection of its history."""

    async def get(self, instance_id: str, *, include_input: bool = True) -> InstanceRecord | None:
        """The row, or None."""
        ...

    async def insert(self, record: InstanceRecord) -> str:
        """Create the row of a new instance; `InstanceConflictError` if it exists."""
        ...

    async def replace(self, record: InstanceRecord, etag: str) -> str:
        """Overwrite the row if it is unchanged since `etag`."""
        ...

    async def update_from_episode(
        self, instance_id: str, update: InstanceUpdate, *, etag: str | None = None
    ) -> str:
        """Merge the columns an episode changed."""
        ...

    async def set_status(
        self,
        instance_id: str,
        status: OrchestrationRuntimeStatus,
        *,
        output: str | None = None,
        etag: str | None = None,
        now: datetime | None = None,
    ) -> str:
        """Change the status of an existing row."""
        ...

    async def delete(self, instance_id: str, *, etag: str | None = None) -> bool:
        """Delete the row; False if there was none."""
        ...

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
        """One page of matching rows and the token of the next page."""
        ...


class QueueStorage(Protocol):
    """The control queues and the work-item queue of the hub."""

    async def decode(self, body: str | bytes) -> TaskMessage:
        """The task message in a received body (fetching a large-message blob)."""
        ...

    async def send(self, message: TaskMessage, *, delay: timedelta | None = None) -> str:
        """Send to the queue the message's kind and instance call for; the queue's name."""
        ...

    async def send_many(self, messages: Iterable[OutboundMessage]) -> None:
        """Send concurrently; the first failure is raised after all ran."""
        ...

    async def send_leased(self, message: TaskMessage, *, delay: timedelta) -> ReceivedMessage:
        """Send hidden for `delay` and keep the handle, to do the work here first."""
        ...

    async def renew(
        self, received: ReceivedMessage, visibility_timeout: timedelta
    ) -> ReceivedMessage | None:
        """Extend (or end, with 0) the lease; None when it was lost."""
        ...

    async def delete(self, received: ReceivedMessage) -> bool:
        """Delete a held message; False when it was gone or held by someone else."""
        ...

    async def requeue(self, body: str | bytes, message: TaskMessage, *, failed: bool) -> int:
        """Send a received body again as a fresh message; how often that followed a failure."""
        ...

    def requeued_times(self, body: str | bytes) -> int:
        """How often `requeue` sent this body again after a failure of its handler."""
        ...


class TaskHubStorage(Protocol):
    """One task hub: the stores the runtime and the client work with."""

    @property
    def hub_name(self) -> str:
        """The task hub's name."""
        ...

    @property
    def history(self) -> HistoryStorage:
        """The History table."""
        ...

    @property
    def instances(self) -> InstanceStorage:
        """The Instances table."""
        ...

    @property
    def queues(self) -> QueueStorage:
        """The hub's queues."""
        ...

    async def purge_instance(self, instance_id: str) -> bool:
        """Delete an instance's history, blobs and row; False if there was nothing."""
        ...
