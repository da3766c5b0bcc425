"""`DurableOrchestrationClient`: start and manage orchestration instances.

The client talks to the task hub in storage directly (as Core Tools' `func durable` does),
not through an HTTP hop: it enqueues control messages and reads the Instances table.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
import uuid
from typing import Any

from durable.core import serialization
from durable.core.history import EventType, HistoryEvent, OrchestrationStatus
from durable.core.messages import TaskMessage
from durable.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
)
from durable.registry import DurableKind, registry
from durable.runtime import config
from durable.runtime.clock import clock
from durable.status import DurableOrchestrationStatus, OrchestrationRuntimeStatus, parse_json_text
from durable.storage.instance_store import InstanceConflictError, InstanceRecord
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub

log = logging.getLogger("durable.client")

MAX_INSTANCE_ID_LENGTH = 256
RUNNING_STATES = frozenset(
    {
        OrchestrationStatus.Pending,
        OrchestrationStatus.Running,
        OrchestrationStatus.Suspended,
        OrchestrationStatus.ContinuedAsNew,
    }
)


def validate_instance_id(instance_id: str) -> None:
    """Reject ids Durable Functions rejects, naming the problem."""
    if not isinstance(instance_id, str) or not instance_id.strip():
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


class DurableOrchestrationClient:
    def __init__(self, settings: TaskHubSettings, hub: TaskHub | None = None) -> None:
        self._settings = settings
        self._hub = hub
        self.task_hub_name = settings.hub_name

    async def _taskhub(self) -> TaskHub:
        if self._hub is None:
            from durable.runtime.worker import get_worker

            worker = await get_worker(self._settings)
            self._hub = worker.hub
        return self._hub

    # --- starting -----------------------------------------------------------------------

    async def start_new(
        self,
        orchestration_function_name: str,
        instance_id: str | None = None,
        client_input: Any = None,
    ) -> str:
        """Start an instance; the id of a finished instance may be reused (overwriting it)."""
        name = _function_name(orchestration_function_name)
        if instance_id is None or instance_id == "":
            instance_id = uuid.uuid4().hex
        validate_instance_id(instance_id)
        input_text = serialization.dumps(
            client_input, where=f"client_input of start_new('{name}')"
        )
        hub = await self._taskhub()
        execution_id = uuid.uuid4().hex
        now = clock.now()
        existing = await hub.instances.get(instance_id, include_input=False)
        record = InstanceRecord(
            instance_id=instance_id,
            name=name,
            runtime_status=OrchestrationStatus.Pending,
            execution_id=execution_id,
            input=input_text,
            created_time=now,
            last_updated_time=now,
            generation=(existing.generation + 1) if existing else 0,
            task_hub_name=hub.hub_name,
        )
        await self._claim(record, existing)
        started = HistoryEvent(
            EventType.ExecutionStarted,
            timestamp=now,
            name=name,
            input=input_text,
            instance_id=instance_id,
            execution_id=execution_id,
        )
        message = TaskMessage(uuid.uuid4().hex, instance_id, started, execution_id)
        await hub.queues.send(message)
        return instance_id

    async def _claim(self, record: InstanceRecord, existing: InstanceRecord | None) -> None:
        """Write the Pending row before the start message, so a worker that sees the message
        also sees which execution the client meant (a stale start is then recognisable)."""
        hub = await self._taskhub()
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

    # --- status -------------------------------------------------------------------------

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = False,
    ) -> DurableOrchestrationStatus:
        hub = await self._taskhub()
        record = await hub.instances.get(instance_id, include_input=show_input)
        if record is None:
            return DurableOrchestrationStatus(message=f"Instance {instance_id} not found")
        status = status_from_record(record, show_input)
        if show_history:
            from durable.history_view import history_for_status

            loaded = await hub.history.load_history(instance_id)
            status._history = history_for_status(loaded.events, show_history_output, show_input)
        return status

    async def _require(self, instance_id: str) -> InstanceRecord:
        hub = await self._taskhub()
        record = await hub.instances.get(instance_id, include_input=False)
        if record is None:
            raise InstanceNotFoundError(f"No instance with id '{instance_id}' was found.")
        return record

    # --- messages to a running instance --------------------------------------------------

    async def raise_event(
        self,
        instance_id: str,
        event_name: str,
        event_data: Any = None,
        task_hub_name: str | None = None,
        connection_name: str | None = None,
    ) -> None:
        if not event_name:
            raise ValueError("event_name must be a non-empty string")
        client = self._other(task_hub_name, connection_name)
        record = await client._require(instance_id)
        if record.runtime_status not in RUNNING_STATES:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; events can only be "
                "raised to Pending, Running or Suspended instances."
            )
        data = serialization.dumps(event_data, where=f"event_data of event '{event_name}'")
        event = HistoryEvent(EventType.EventRaised, clock.now(), name=event_name, input=data)
        await client._send(instance_id, event)

    async def terminate(self, instance_id: str, reason: str | None = None) -> None:
        record = await self._require(instance_id)
        if record.runtime_status not in RUNNING_STATES:
            log.info("Instance '%s' is already %s", instance_id, record.runtime_status.name)
            return
        text = serialization.dumps(reason, where="reason of terminate")
        await self._send(instance_id, HistoryEvent(EventType.ExecutionTerminated, clock.now(),
                                                   input=text))

    async def suspend(self, instance_id: str, reason: str | None = None) -> None:
        record = await self._require(instance_id)
        if record.runtime_status not in RUNNING_STATES - {OrchestrationStatus.Suspended}:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; only Pending or "
                "Running instances can be suspended."
            )
        await self._send(instance_id, HistoryEvent(EventType.ExecutionSuspended, clock.now(),
                                                   reason=reason))

    async def resume(self, instance_id: str, reason: str | None = None) -> None:
        record = await self._require(instance_id)
        if record.runtime_status is not OrchestrationStatus.Suspended:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; only Suspended "
                "instances can be resumed."
            )
        await self._send(instance_id, HistoryEvent(EventType.ExecutionResumed, clock.now(),
                                                   reason=reason))

    async def _send(self, instance_id: str, event: HistoryEvent) -> None:
        hub = await self._taskhub()
        await hub.queues.send(TaskMessage(uuid.uuid4().hex, instance_id, event, None))

    def _other(self, task_hub: str | None, connection: str | None) -> DurableOrchestrationClient:
        if not task_hub and not connection:
            return self
        return DurableOrchestrationClient(config.load_settings(task_hub, connection))


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


def _function_name(name: Any) -> str:
    """The SDK also accepts the decorated function itself."""
    if callable(name):
        name = getattr(name, "__name__", str(name))
    if not isinstance(name, str) or not name:
        raise ValueError("orchestration_function_name must be a non-empty string")
    if registry.names(DurableKind.ORCHESTRATOR) and registry.get(
        DurableKind.ORCHESTRATOR, name
    ) is None:
        known = ", ".join(registry.names(DurableKind.ORCHESTRATOR))
        raise ValueError(
            f"The orchestrator function '{name}' does not exist in this app "
            f"(orchestrators: {known})."
        )
    return name


_clients: dict[tuple[int, str | None, str | None], DurableOrchestrationClient] = {}


def get_client(
    task_hub: str | None = None, connection_name: str | None = None
) -> DurableOrchestrationClient:
    """The client `durable_client_input` injects: one per event loop, hub and connection."""
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = 0
    key = (loop_id, task_hub, connection_name)
    client = _clients.get(key)
    if client is None:
        client = DurableOrchestrationClient(config.load_settings(task_hub, connection_name))
        _clients[key] = client
    return client
