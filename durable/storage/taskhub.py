"""The task hub: the storage clients of one hub, and its provisioning.

One `TaskHub` per process and hub is enough: all clients share one aiohttp connection pool,
and it must be used (and closed) on the event loop that first used it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from durable.errors import TaskHubError
from durable.storage.history_store import HistoryStore
from durable.storage.instance_store import InstanceStore
from durable.storage.large_payloads import LargePayloadStore
from durable.storage.names import (
    history_table_name,
    instances_table_name,
    large_message_container_name,
)
from durable.storage.queues import TaskHubQueues
from durable.storage.settings import TaskHubSettings
from durable.storage.transport import (
    CountingTransport,
    PoolTransport,
    RequestCounter,
    is_emulator,
    keepalive_for,
    translating,
)

# Azure keeps a deleted queue/table/container name reserved for a while (up to ~30 s for
# containers); a hub re-created right after delete-task-hub waits it out.
_BEING_DELETED = {"QueueBeingDeleted", "TableBeingDeleted", "ContainerBeingDeleted"}
_RECREATE_DEADLINE_S = 90.0
_RECREATE_POLL_S = 1.0


def _error_code(exc: Exception) -> str:
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _retry_options(connection_string: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Retry settings for (queue/blob, table) clients.

    The SDK defaults back off for up to a minute; an unreachable Azurite is Azurite not
    running, which one quick retry is enough to establish.
    """
    connect = 1 if is_emulator(connection_string) else 3
    storage = {
        "retry_total": 3,
        "retry_connect": connect,
        "initial_backoff": 1,
        "increment_base": 2,
        "random_jitter_range": 1,
    }
    table = {"retry_total": 3, "retry_connect": connect, "retry_backoff_factor": 0.5}
    return storage, table


class TaskHub:
    """Queues, tables and the large-message container of one task hub."""

    def __init__(self, settings: TaskHubSettings) -> None:
        self.settings = settings
        self._counter = RequestCounter()
        cs = settings.connection_string
        # No environment settings: aiohttp would otherwise look up proxy and netrc settings
        # on a thread for every request, a measurable share of a busy host's CPU.
        self._transport = PoolTransport(
            connection_timeout=10, read_timeout=120, keepalive_seconds=keepalive_for(cs)
        )
        storage_retry, table_retry = _retry_options(cs)

        def transport(service: str) -> CountingTransport:
            return CountingTransport(self._transport, service, self._counter)

        self._queue_service = QueueServiceClient.from_connection_string(
            cs, transport=transport("queue"), **storage_retry
        )
        self._table_service = TableServiceClient.from_connection_string(
            cs, transport=transport("table"), **table_retry
        )
        self._blob_service = BlobServiceClient.from_connection_string(
            cs, transport=transport("blob"), **storage_retry
        )
        hub = settings.hub_name
        container = self._blob_service.get_container_client(large_message_container_name(hub))
        self.payloads = LargePayloadStore(container)
        self.queues = TaskHubQueues(
            self._queue_service, hub, settings.partition_count, self.payloads
        )
        self.history = HistoryStore(
            self._table_service.get_table_client(history_table_name(hub)), self.payloads
        )
        self.instances = InstanceStore(
            self._table_service.get_table_client(instances_table_name(hub)), self.payloads, hub
        )
        # Provisioning is one round of calls per TaskHub object; concurrent first users
        # share it, and a failed attempt is tried again by the next.
        self._created: asyncio.Future[None] | None = None

    @property
    def hub_name(self) -> str:
        return self.settings.hub_name

    @property
    def request_counts(self) -> dict[str, int]:
        """Storage requests sent so far by kind (retries included), e.g. `table.batch`."""
        return self._counter.snapshot()

    def reset_request_counts(self) -> None:
        self._counter.reset()

    def _resource_names(self) -> tuple[list[str], list[str], str]:
        queues = [*self.queues.control_queue_names, self.queues.work_item_queue_name]
        tables = [history_table_name(self.hub_name), instances_table_name(self.hub_name)]
        return queues, tables, large_message_container_name(self.hub_name)

    async def create_if_not_exists(self) -> None:
        """Create the hub's queues, tables and container; idempotent. The first call of this
        object does the work, later ones return at once."""
        created = self._created
        failed = created is not None and created.done() and (
            created.cancelled() or created.exception() is not None
        )
        if created is None or failed:
            created = self._created = asyncio.ensure_future(self._provision())
        await asyncio.shield(created)

    async def _provision(self) -> None:
        queues, tables, container = self._resource_names()
        await asyncio.gather(
            *(self._create(self._queue_service.url, self._create_queue, q) for q in queues),
            *(self._create(self._table_service.url, self._create_table, t) for t in tables),
            self._create(self._blob_service.url, self._create_container, container),
        )

    async def _create(
        self, endpoint: str, create: Callable[[str], Awaitable[None]], name: str
    ) -> None:
        deadline = time.monotonic() + _RECREATE_DEADLINE_S
        async with translating(endpoint):
            while True:
                try:
                    await create(name)
                    return
                except ResourceExistsError as exc:
                    code = _error_code(exc)
                    if code not in _BEING_DELETED:
                        return  # QueueAlreadyExists, TableAlreadyExists, ...: fine
                    if time.monotonic() > deadline:
                        raise TaskHubError(
                            f"{name!r} is still being deleted after {_RECREATE_DEADLINE_S:.0f} s;"
                            " try again later or use another hub name"
                        ) from exc
                await asyncio.sleep(_RECREATE_POLL_S)

    async def _create_queue(self, name: str) -> None:
        await self._queue_service.create_queue(name)

    async def _create_table(self, name: str) -> None:
        await self._table_service.create_table(name)

    async def _create_container(self, name: str) -> None:
        await self._blob_service.create_container(name)

    async def delete(self) -> None:
        """Delete everything of the hub (delete-task-hub): queues, tables, container."""
        self._created = None
        queues, tables, container = self._resource_names()
        prefix = self.hub_name.lower() + "-control-"
        async with translating(self._queue_service.url):
            listed = [
                q.name
                async for q in self._queue_service.list_queues(name_starts_with=prefix)
                if q.name is not None
            ]
        await asyncio.gather(
            *(
                self._ignore_missing(self._queue_service.url, self._queue_service.delete_queue, q)
                for q in sorted(set(queues) | set(listed))
            ),
            *(
                self._ignore_missing(self._table_service.url, self._table_service.delete_table, t)
                for t in tables
            ),
            self._ignore_missing(
                self._blob_service.url, self._blob_service.delete_container, container
            ),
        )

    @staticmethod
    async def _ignore_missing(
        endpoint: str, delete: Callable[[str], Awaitable[Any]], name: str
    ) -> None:
        async with translating(endpoint):
            with contextlib.suppress(ResourceNotFoundError):
                await delete(name)

    async def purge_instance(self, instance_id: str) -> bool:
        """Delete an instance's history, payload blobs and Instances row; False if none."""
        rows = await self.history.delete_history(instance_id)
        existed = await self.instances.delete(instance_id)
        return existed or rows > 0

    async def close(self) -> None:
        for client in (self._queue_service, self._table_service, self._blob_service):
            await client.close()
        await self._transport.close()

    async def __aenter__(self) -> TaskHub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
