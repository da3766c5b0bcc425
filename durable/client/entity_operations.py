"""The client's entity operations: signal, read state, list, clean up.

They read and write the task hub as Durable Functions does for entities on Azure Storage:
an entity's Instances row (id `@name@key`) holds its scheduler state in `Input` and its
`EntityStatus` in `CustomStatus`; a signal is an `op` event on the entity's control queue.
Signals this client sends carry ids `{client id}:{counter}:c`, which the entity
de-duplicates compactly (see `durable.core.entity_state`).
"""

from __future__ import annotations

import itertools
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from durable.client.arguments import flag_arg, number_arg, text_arg, time_arg
from durable.client.signal_batches import SignalBatcher
from durable.core import events as ev
from durable.core.entities import (
    BATCH_EVENT,
    ENTITY_OPERATION_EVENT,
    RELEASE_EVENT,
    EntityId,
    EntityRequest,
    EntityStatus,
    LockRelease,
)
from durable.core.entity_state import SchedulerState
from durable.core.messages import TaskMessage
from durable.core.serialization import dumps, loads
from durable.runtime.clock import Clock
from durable.storage.instance_store import MAX_PAGE_SIZE
from durable.storage.interface import InstanceRecord, TaskHubStorage
from durable.storage.settings import TaskHubSettings


class EntityStateResponse:
    """What `read_entity_state` returns: whether the entity exists, and its state."""

    def __init__(self, entity_exists: bool, entity_state: Any = None) -> None:
        self._entity_exists = entity_exists
        self._entity_state = entity_state

    @property
    def entity_exists(self) -> bool:
        """Whether the entity has state (it was set and not destructed)."""
        return self._entity_exists

    @property
    def entity_state(self) -> Any:
        """The entity's state, decoded from JSON (None when it does not exist)."""
        return self._entity_state

    def __repr__(self) -> str:
        return f"EntityStateResponse(entity_exists={self._entity_exists!r})"


@dataclass(frozen=True)
class EntityMetadata:
    """One entity in a listing (Durable Functions' `DurableEntityStatus`)."""

    entity_id: EntityId
    last_operation_time: datetime | None
    state: Any = None
    locked_by: str | None = None
    queue_size: int = 0

    def to_json(self) -> dict[str, Any]:
        """The JSON of the HTTP API's entity listing."""
        data: dict[str, Any] = {
            "entityId": self.entity_id.to_json(),
            "lastOperationTime": _iso(self.last_operation_time),
        }
        if self.state is not None:
            data["state"] = self.state
        return data


@dataclass(frozen=True)
class CleanEntityStorageResult:
    """What `clean_entity_storage` did."""

    empty_entities_removed: int
    orphaned_locks_released: int

    def to_json(self) -> dict[str, int]:
        """Durable Functions' member names."""
        return {
            "numberOfEmptyEntitiesRemoved": self.empty_entities_removed,
            "numberOfOrphanedLocksRemoved": self.orphaned_locks_released,
        }


class EntityOperations(ABC):
    """Entity methods of `DurableOrchestrationClient` (mixed into it)."""

    _clock: Clock
    _settings: TaskHubSettings
    _client_id: str
    _counter: itertools.count[int]

    @abstractmethod
    async def _taskhub(self) -> Any:
        """The task hub this client works with."""

    @abstractmethod
    def _other(self, task_hub: str | None, connection: str | None) -> Any:
        """The client of another hub or account."""

    def _init_entities(self) -> None:
        self._client_id = uuid.uuid4().hex
        self._counter = itertools.count(1)
        self._batcher = SignalBatcher(self._send_batch)

    async def signal_entity(
        self,
        entityId: EntityId,  # noqa: N803 (the SDK's argument names)
        operation_name: str,
        operation_input: Any = None,
        task_hub_name: str | None = None,
        connection_name: str | None = None,
        *,
        scheduled_time: datetime | None = None,
    ) -> None:
        """Send operation `operation_name` to an entity, without waiting for it.

        With `scheduled_time` the entity runs it at that time (a delayed message).
        """
        _entity_arg(entityId)
        text_arg(operation_name, "operation_name", required=True)
        time_arg(scheduled_time, "scheduled_time")
        data = dumps(operation_input, f"operation_input of '{operation_name}'")
        client = self._other(task_hub_name, connection_name)
        await client._send_entity_request(entityId, operation_name, data, scheduled_time)

    async def _send_entity_request(
        self, entity: EntityId, operation: str, data: str | None, due: datetime | None
    ) -> None:
        message_id = self._next_message_id()
        target = str(entity)
        if due is None:
            request = EntityRequest(uuid.uuid4().hex, operation, True, data)
            await self._batcher.signal(target, message_id, request)
            return
        now = self._clock.now()
        due_utc = _utc(due)
        # A scheduled signal waits for its time, not for a predecessor.
        request = EntityRequest(uuid.uuid4().hex, operation, True, data, due=due_utc)
        name = f"{ENTITY_OPERATION_EVENT}@{request.to_dict()['due']}"
        # Longer waits than the queue's limit travel in hops, as timers do.
        delay = min(max(due_utc - now, timedelta(0)), self._settings.max_chain_delay)
        event = ev.event_raised(now, name=name, input=request.to_json()).replace(fire_at=due_utc)
        hub: TaskHubStorage = await self._taskhub()
        await hub.queues.send(TaskMessage(message_id, target, event, None), delay=delay)

    async def _send_batch(self, target: str, message_id: str, batch_json: str) -> None:
        event = ev.event_raised(self._clock.now(), name=BATCH_EVENT, input=batch_json)
        hub: TaskHubStorage = await self._taskhub()
        await hub.queues.send(TaskMessage(message_id, target, event, None))

    def _next_message_id(self) -> str:
        return f"{self._client_id}:{next(self._counter)}:c"

    async def read_entity_state(
        self,
        entityId: EntityId,  # noqa: N803
        task_hub_name: str | None = None,
        connection_name: str | None = None,
    ) -> EntityStateResponse:
        """The entity's state, from its Instances row, as Durable Functions reads it."""
        _entity_arg(entityId)
        client = self._other(task_hub_name, connection_name)
        hub: TaskHubStorage = await client._taskhub()
        record = await hub.instances.get(str(entityId), include_input=True)
        state = SchedulerState.from_json(record.input if record is not None else None)
        if not state.exists:
            return EntityStateResponse(False)
        return EntityStateResponse(True, loads(state.state))

    async def list_entities(
        self,
        entity_name: str | None = None,
        *,
        last_operation_time_from: datetime | None = None,
        last_operation_time_to: datetime | None = None,
        fetch_state: bool = False,
        page_size: int = 100,
        continuation_token: str | None = None,
    ) -> tuple[list[EntityMetadata], str | None]:
        """One page of existing entities (of `entity_name`, or all) and the next token."""
        text_arg(entity_name, "entity_name")
        time_arg(last_operation_time_from, "last_operation_time_from")
        time_arg(last_operation_time_to, "last_operation_time_to")
        flag_arg(fetch_state, "fetch_state")
        number_arg(page_size, "page_size", minimum=1, integer=True)
        text_arg(continuation_token, "continuation_token")
        hub: TaskHubStorage = await self._taskhub()
        prefix = f"@{entity_name.lower()}@" if entity_name else "@"
        found: list[EntityMetadata] = []
        token = continuation_token
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        while len(found) < size:
            records, token = await hub.instances.query(
                instance_id_prefix=prefix,
                top=size - len(found),
                continuation_token=token,
                include_input=fetch_state,
            )
            for record in records:
                entry = _metadata(record, fetch_state)
                if entry is not None and _in_range(
                    entry.last_operation_time, last_operation_time_from, last_operation_time_to
                ):
                    found.append(entry)
            if token is None:
                break
        return found, token

    async def clean_entity_storage(
        self, remove_empty_entities: bool = True, release_orphaned_locks: bool = True
    ) -> CleanEntityStorageResult:
        """Remove entities that have no state, no lock and no waiting operations and have
        been idle longer than the reorder window, and release locks whose orchestration is
        no longer running (Durable Functions' `CleanEntityStorageAsync`)."""
        flag_arg(remove_empty_entities, "remove_empty_entities")
        flag_arg(release_orphaned_locks, "release_orphaned_locks")
        hub: TaskHubStorage = await self._taskhub()
        window = self._settings.entity_message_reorder_window
        removed = released = 0
        token: str | None = None
        while True:
            records, token = await hub.instances.query(
                instance_id_prefix="@", top=MAX_PAGE_SIZE, continuation_token=token,
                include_input=False,
            )
            for record in records:
                status = EntityStatus.from_json(record.custom_status)
                if release_orphaned_locks and status.locked_by is not None:
                    holder = await hub.instances.get(status.locked_by, include_input=False)
                    if holder is None or not holder.runtime_status.is_running:
                        await self._release(hub, record.instance_id, status.locked_by)
                        released += 1
                        continue
                idle = (self._clock.now() - record.last_updated_time
                        if record.last_updated_time else None)
                empty = (not status.entity_exists and status.locked_by is None
                         and not status.queue_size)
                stale = idle is None or idle > window
                if remove_empty_entities and empty and stale:
                    removed += int(await hub.purge_instance(record.instance_id))
            if token is None:
                return CleanEntityStorageResult(removed, released)

    async def _release(self, hub: TaskHubStorage, entity: str, holder: str) -> None:
        release = LockRelease(holder, "").to_json()
        event = ev.event_raised(self._clock.now(), name=RELEASE_EVENT, input=release)
        await hub.queues.send(TaskMessage(self._next_message_id(), entity, event, None))


def _entity_arg(value: object) -> EntityId:
    if not isinstance(value, EntityId):
        raise TypeError(f"entityId must be an EntityId, got {type(value).__name__}")
    return value


def _metadata(record: InstanceRecord, fetch_state: bool) -> EntityMetadata | None:
    try:
        entity = EntityId.get_entity_id(record.instance_id)
    except ValueError:
        return None
    status = EntityStatus.from_json(record.custom_status)
    state: Any = None
    if fetch_state:
        scheduler = SchedulerState.from_json(record.input)
        if not scheduler.exists:
            return None
        state = loads(scheduler.state)
    elif not status.entity_exists:
        return None
    return EntityMetadata(entity, record.last_updated_time, state, status.locked_by,
                          status.queue_size)


def _in_range(moment: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if moment is None:
        return low is None and high is None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if low is not None and aware < (low if low.tzinfo else low.replace(tzinfo=UTC)):
        return False
    return not (high is not None and aware > (high if high.tzinfo else high.replace(tzinfo=UTC)))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return utc.isoformat().replace("+00:00", "Z")


__all__ = [
    "CleanEntityStorageResult",
    "EntityMetadata",
    "EntityOperations",
    "EntityStateResponse",
]
