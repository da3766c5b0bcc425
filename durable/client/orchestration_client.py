"""`DurableOrchestrationClient`: start and manage orchestration instances.

The client talks to the task hub in storage directly (as Core Tools' `func durable` does),
not through an HTTP hop: it enqueues control messages and reads the Instances table. The
HTTP management API (`durable.http`) is a thin layer over this class.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import azure.functions as func

from durable.client import links
from durable.client.arguments import (
    flag_arg,
    instance_id_arg,
    number_arg,
    orchestrator_name_arg,
    statuses_arg,
    text_arg,
    time_arg,
    validate_instance_id,
)
from durable.client.bindings import parse_binding
from durable.client.entity_operations import EntityOperations
from durable.client.history_view import history_for_status
from durable.client.hub_view import TaskHubViews
from durable.client.instances import claim_instance, query_page
from durable.client.status import (
    DurableOrchestrationStatus,
    PurgeHistoryResult,
    status_from_record,
)
from durable.client.traced_sends import Deliver, send_event, send_start
from durable.core import serialization
from durable.core.entities import is_entity_id
from durable.core.history import EventType, HistoryEvent
from durable.core.history_json import to_durable_json
from durable.core.messages import TaskMessage
from durable.core.registry import DurableRegistry
from durable.core.status import OrchestrationRuntimeStatus
from durable.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
)
from durable.runtime.clock import Clock
from durable.runtime.rewind import rewind_instance
from durable.storage.instance_store import MAX_PAGE_SIZE
from durable.storage.interface import InstanceRecord
from durable.storage.settings import TaskHubSettings, load_settings
from durable.storage.taskhub import TaskHub

log = logging.getLogger("durable.client")
__all__ = ["DurableOrchestrationClient"]

PURGE_CONCURRENCY = 16
HubSource = Callable[[], Awaitable[TaskHub]]
ClientSource = Callable[[str | None, str | None], "DurableOrchestrationClient"]


class DurableOrchestrationClient(EntityOperations, TaskHubViews):
    """Starts, queries and manages the instances of a task hub (the SDK's client)."""

    def __init__(
        self,
        settings: TaskHubSettings | str,
        hub: TaskHub | str | None = None,
        *,
        check_function_names: bool = True,
        functions: DurableRegistry | None = None,
        clock: Clock | None = None,
        function_invocation_id: str | None = None,
    ) -> None:
        """A client of the hub `settings` name, using `hub` when given (else its own).

        `settings` may also be the SDK's durableClient binding string (JSON), with the
        function invocation id as the SDK's second argument: the hub and connection are
        read from it (see `durable.client.bindings`). `functions` is the app's registry:
        starts are checked against its orchestrators unless `check_function_names=False`,
        which lets a process that does not load the app (the `durable` command line) start
        orchestrators it cannot see.
        """
        self._origin: str | None = None
        if isinstance(settings, str):
            binding = parse_binding(settings)
            settings, self._origin = binding.settings(), binding.origin
        if isinstance(hub, str):
            function_invocation_id, hub = hub, None
        self.function_invocation_id = function_invocation_id
        self._settings = settings
        self._hub = hub
        self._hub_source: HubSource | None = None
        self._deliver: Deliver | None = None
        self._others: ClientSource | None = None
        self._functions = functions if check_function_names else None
        self._clock = clock or Clock()
        self.task_hub_name = settings.hub_name
        self._init_entities()

    @classmethod
    def for_app(
        cls,
        settings: TaskHubSettings,
        hub_source: HubSource,
        *,
        functions: DurableRegistry,
        clock: Clock,
        others: ClientSource | None = None,
        deliver: Deliver | None = None,
    ) -> DurableOrchestrationClient:
        """The client of a process that runs the app.

        Its task hub comes from (and is shared through) the composition root, as do the
        clients of other hubs and `deliver`, which hands a start to this process's worker
        (False: there is none; the start goes to the queue).
        """
        client = cls(settings, functions=functions, clock=clock)
        client._hub_source = hub_source
        client._others = others
        client._deliver = deliver
        return client

    async def _taskhub(self) -> TaskHub:
        if self._hub is None:
            if self._hub_source is not None:
                self._hub = await self._hub_source()
            else:
                hub = TaskHub(self._settings)
                await hub.create_if_not_exists()
                self._hub = hub
        return self._hub

    # --- starting -----------------------------------------------------------------------

    async def start_new(
        self,
        orchestration_function_name: str | Callable[..., Any],
        instance_id: str | None = None,
        client_input: Any = None,
        version: str | None = None,
    ) -> str:
        """Start an instance; the id of a finished instance may be reused (overwriting it).

        `version` is the instance's orchestration version (`context.version`); without it
        the instance gets host.json `defaultVersion`, as in Durable Functions.
        """
        name = orchestrator_name_arg(orchestration_function_name, self._functions)
        text_arg(version, "version")
        input_text = serialization.dumps(
            client_input, where=f"client_input of start_new('{name}')"
        )
        return await self._start(
            name, instance_id, input_text, version or self._settings.default_version
        )

    async def restart(self, instance_id: str, restart_with_new_instance_id: bool = True) -> str:
        """Start the orchestrator of an instance again with the same input (extension API)."""
        flag_arg(restart_with_new_instance_id, "restart_with_new_instance_id")
        record = await self._require(instance_id, include_input=True)
        name = orchestrator_name_arg(record.name or "", self._functions)
        new_id = None if restart_with_new_instance_id else instance_id
        return await self._start(name, new_id, record.input, record.version)

    async def _start(
        self, name: str, instance_id: str | None, input_text: str | None, version: str | None
    ) -> str:
        generated = instance_id is None or instance_id == ""
        if generated:
            instance_id = uuid.uuid4().hex
        assert instance_id is not None
        validate_instance_id(instance_id)
        hub = await self._taskhub()
        execution_id = uuid.uuid4().hex
        now = self._clock.now()
        # A fresh random id cannot exist yet: one read saved on the common path.
        existing = None if generated else await hub.instances.get(instance_id, include_input=False)
        record = InstanceRecord(
            instance_id=instance_id,
            name=name,
            runtime_status=OrchestrationRuntimeStatus.Pending,
            execution_id=execution_id,
            version=version,
            input=input_text,
            created_time=now,
            last_updated_time=now,
            generation=(existing.generation + 1) if existing else 0,
            task_hub_name=hub.hub_name,
        )
        started = HistoryEvent(
            EventType.ExecutionStarted,
            timestamp=now,
            name=name,
            version=version,
            input=input_text,
            instance_id=instance_id,
            execution_id=execution_id,
        )
        message = TaskMessage(uuid.uuid4().hex, instance_id, started, execution_id)
        if not generated:
            await claim_instance(hub, record, existing)
            await send_start(hub, message, self._deliver)
            return instance_id
        # The Pending row goes first for a chosen id, so that a worker seeing the message
        # can tell a stale start; a fresh random id has none, so row and start go together
        # (if the start's episode writes the row first, the Pending insert is not needed).
        claimed, sent = await asyncio.gather(
            claim_instance(hub, record, None), send_start(hub, message, self._deliver),
            return_exceptions=True,
        )
        for outcome in (claimed, sent):
            if isinstance(outcome, BaseException) and not isinstance(
                outcome, InstanceAlreadyExistsError
            ):
                raise outcome
        return instance_id

    # --- status -------------------------------------------------------------------------

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_history_output: bool = False,
        show_input: bool = False,
    ) -> DurableOrchestrationStatus:
        """The status, or a falsy status (with `message`) when there is no such instance.

        History is that of the current execution; a Pending instance has none yet.
        """
        instance_id_arg(instance_id)
        for flag, name in ((show_history, "show_history"), (show_input, "show_input"),
                           (show_history_output, "show_history_output")):
            flag_arg(flag, name)
        hub = await self._taskhub()
        record = await hub.instances.get(instance_id, include_input=show_input)
        if record is None:
            return DurableOrchestrationStatus(message=f"Instance {instance_id} not found")
        status = status_from_record(record, show_input)
        if show_history:
            loaded = await hub.history.load_history(instance_id)
            current = (
                record.runtime_status is not OrchestrationRuntimeStatus.Pending
                and loaded.execution_id == record.execution_id
            )
            events = loaded.events if current else []
            status._history = history_for_status(events, show_history_output, show_input)
        return status

    async def get_history_json(self, instance_id: str) -> list[dict[str, Any]]:
        """The instance's history in Durable Functions' out-of-process JSON shape.

        JSON-ready dicts, for golden-history tests: `durable.testing.replay` reads them
        back. Raises `InstanceNotFoundError` for an unknown id (extension API).
        """
        await self._require(instance_id)
        loaded = await (await self._taskhub()).history.load_history(instance_id)
        return to_durable_json(loaded.events)

    async def get_status_all(self) -> list[DurableOrchestrationStatus]:
        """Every instance of the task hub (all pages, unlike the SDK's first page only)."""
        return await self.get_status_by()

    async def get_status_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[OrchestrationRuntimeStatus] | None = None,
        instance_id_prefix: str | None = None,
        *,
        version: str | None = None,
    ) -> list[DurableOrchestrationStatus]:
        """The statuses of the instances created in the range with one of the statuses.

        With `instance_id_prefix`, only instances whose ids start with it; with `version`
        (our addition), only those of that orchestration version.
        """
        found: list[DurableOrchestrationStatus] = []
        token: str | None = None
        while True:
            page, token = await self.get_status_page(
                created_time_from=created_time_from,
                created_time_to=created_time_to,
                runtime_status=runtime_status,
                instance_id_prefix=instance_id_prefix,
                version=version,
                page_size=MAX_PAGE_SIZE,
                continuation_token=token,
            )
            found.extend(page)
            if token is None:
                return found

    async def get_status_page(
        self,
        *,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[OrchestrationRuntimeStatus] | None = None,
        instance_id_prefix: str | None = None,
        page_size: int = 100,
        continuation_token: str | None = None,
        show_input: bool = True,
        version: str | None = None,
        name_prefix: str | None = None,
    ) -> tuple[list[DurableOrchestrationStatus], str | None]:
        """One page of at most `page_size` statuses, and the token of the next (None: end).

        It is the paging of the HTTP API's `GET instances` and of `durable get-instances`;
        `name_prefix` keeps the orchestrators whose name starts with it (the dashboard's
        name filter).
        """
        time_arg(created_time_from, "created_time_from")
        time_arg(created_time_to, "created_time_to")
        runtime_status = statuses_arg(runtime_status, "runtime_status")
        text_arg(instance_id_prefix, "instance_id_prefix")
        number_arg(page_size, "page_size", minimum=1, integer=True)
        text_arg(continuation_token, "continuation_token")
        flag_arg(show_input, "show_input")
        text_arg(version, "version")
        text_arg(name_prefix, "name_prefix")
        hub = await self._taskhub()
        records, token = await query_page(
            hub,
            created_from=created_time_from,
            created_to=created_time_to,
            statuses=list(runtime_status or ()),
            instance_id_prefix=instance_id_prefix,
            size=max(1, min(page_size, MAX_PAGE_SIZE)),
            continuation_token=continuation_token,
            show_input=show_input,
            version=version,
            name_prefix=name_prefix,
        )
        return [status_from_record(r, show_input) for r in records], token

    async def _require(self, instance_id: str, include_input: bool = False) -> InstanceRecord:
        """The row of an orchestration instance that must exist (raise, terminate, ...)."""
        instance_id_arg(instance_id)
        if is_entity_id(instance_id):
            raise ValueError(
                f"'{instance_id}' is an entity, not an orchestration instance: send it "
                "operations with signal_entity, read it with read_entity_state."
            )
        hub = await self._taskhub()
        record = await hub.instances.get(instance_id, include_input=include_input)
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
        """Send event `event_name` with `event_data` to a Pending, Running or Suspended instance.

        `task_hub_name` / `connection_name` address an instance of another hub or account.
        """
        instance_id_arg(instance_id)
        text_arg(event_name, "event_name", required=True)
        data = serialization.dumps(event_data, where=f"event_data of event '{event_name}'")
        client = self._other(task_hub_name, connection_name)
        record = await client._require(instance_id)
        if not record.runtime_status.is_running:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; events can only be "
                "raised to Pending, Running or Suspended instances."
            )
        event = HistoryEvent(EventType.EventRaised, self._clock.now(), name=event_name, input=data)
        await client._send(instance_id, event)

    async def terminate(self, instance_id: str, reason: str | None = None) -> None:
        """Terminate a running instance; a finished one is left as it is (as the SDK)."""
        text_arg(reason, "reason")
        record = await self._require(instance_id)
        if not record.runtime_status.is_running:
            log.info("Instance '%s' is already %s", instance_id, record.runtime_status.name)
            return
        text = serialization.dumps(reason, where="reason of terminate")
        await self._send(instance_id, HistoryEvent(EventType.ExecutionTerminated, self._clock.now(),
                                                   input=text))

    async def suspend(self, instance_id: str, reason: str | None = None) -> None:
        """Pause a Pending or Running instance: events it gets wait until it is resumed.

        A finished instance is left as it is, without an error: the SDK takes the
        extension's 410 Gone for it as success.
        """
        text_arg(reason, "reason")
        record = await self._require(instance_id)
        status = record.runtime_status
        if self._finished(instance_id, record, "suspend"):
            return
        if status is OrchestrationRuntimeStatus.Suspended:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; only Pending or "
                "Running instances can be suspended."
            )
        await self._send(instance_id, HistoryEvent(EventType.ExecutionSuspended, self._clock.now(),
                                                   reason=reason))

    async def resume(self, instance_id: str, reason: str | None = None) -> None:
        """Let a Suspended instance go on, with the events that arrived meanwhile.

        A finished instance is left as it is, without an error (the SDK's 410 handling).
        """
        text_arg(reason, "reason")
        record = await self._require(instance_id)
        if self._finished(instance_id, record, "resume"):
            return
        if record.runtime_status is not OrchestrationRuntimeStatus.Suspended:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; only Suspended "
                "instances can be resumed."
            )
        await self._send(instance_id, HistoryEvent(EventType.ExecutionResumed, self._clock.now(),
                                                   reason=reason))

    @staticmethod
    def _finished(instance_id: str, record: InstanceRecord, operation: str) -> bool:
        if record.runtime_status.is_running:
            return False
        log.info("Instance '%s' is %s; %s leaves it as it is", instance_id,
                 record.runtime_status.name, operation)
        return True

    async def rewind(
        self,
        instance_id: str,
        reason: str,
        task_hub_name: str | None = None,
        connection_name: str | None = None,
    ) -> None:
        """Re-run the failed work of a Failed instance and of its failed sub-orchestrations.

        What succeeded before is replayed, not run again.
        """
        text_arg(reason, "reason")
        client = self._other(task_hub_name, connection_name)
        record = await client._require(instance_id)
        if record.runtime_status is not OrchestrationRuntimeStatus.Failed:
            raise InvalidInstanceStateError(
                f"Instance '{instance_id}' is {record.runtime_status.name}; only Failed "
                "instances can be rewound."
            )
        await rewind_instance(await client._taskhub(), instance_id, reason, self._clock)

    async def _send(self, instance_id: str, event: HistoryEvent) -> None:
        hub = await self._taskhub()
        await send_event(hub, TaskMessage(uuid.uuid4().hex, instance_id, event, None))

    def _other(self, task_hub: str | None, connection: str | None) -> DurableOrchestrationClient:
        """The client of another hub or account.

        Some SDK methods take `task_hub_name` / `connection_name` to address one.
        """
        if not task_hub and not connection:
            return self
        if self._others is not None:
            return self._others(task_hub, connection)
        return DurableOrchestrationClient(
            load_settings(task_hub, connection), functions=self._functions, clock=self._clock
        )

    # --- purge --------------------------------------------------------------------------

    async def purge_instance_history(self, instance_id: str) -> PurgeHistoryResult:
        """Delete an instance's history, row and payload blobs, whatever its status."""
        instance_id_arg(instance_id)
        hub = await self._taskhub()
        existed = await hub.purge_instance(instance_id)
        return PurgeHistoryResult(instancesDeleted=1 if existed else 0)

    async def purge_instance_history_by(
        self,
        created_time_from: datetime | None = None,
        created_time_to: datetime | None = None,
        runtime_status: list[OrchestrationRuntimeStatus] | None = None,
    ) -> PurgeHistoryResult:
        """Purge the instances created in the range with one of the statuses (None: any).

        Unlike Durable Functions, non-terminal statuses asked for are honoured, not silently
        dropped from the filter.
        """
        found = await self.get_status_by(created_time_from, created_time_to, runtime_status)
        hub = await self._taskhub()
        limit = asyncio.Semaphore(PURGE_CONCURRENCY)

        async def purge(instance_id: str) -> bool:
            async with limit:
                return await hub.purge_instance(instance_id)

        done = await asyncio.gather(*(purge(s.instance_id) for s in found if s.instance_id))
        return PurgeHistoryResult(instancesDeleted=sum(done))

    # --- HTTP helpers -------------------------------------------------------------------

    def create_http_management_payload(self, instance_id: str) -> dict[str, str]:
        """The management links of an instance, for the app's own host name (no key)."""
        instance_id_arg(instance_id)
        return self._payload(self._origin or links.default_origin(), instance_id, None)

    def create_check_status_response(
        self, request: func.HttpRequest | None, instance_id: str
    ) -> func.HttpResponse:
        """202 with the management links, built from the request's scheme and host.

        With `request` None (as the SDK allows), from the app's own host name.
        """
        payload = self.get_client_response_links(request, instance_id)
        return links.check_status_response(payload)

    def get_client_response_links(
        self, request: func.HttpRequest | None, instance_id: str
    ) -> dict[str, str]:
        """The management links of an instance (the body of the check-status response).

        On the request's scheme and host with its key, or the app's host without a request.
        """
        if request is None:
            return self.create_http_management_payload(instance_id)
        if not isinstance(getattr(request, "url", None), str):
            raise TypeError(
                f"request must be the function's azure.functions.HttpRequest (or None), got "
                f"{type(request).__name__}"
            )
        instance_id_arg(instance_id)
        return self._payload(links.origin_of(request.url), instance_id, links.function_key(request))

    def _payload(self, origin: str, instance_id: str, code: str | None) -> dict[str, str]:
        query = links.query_suffix(
            self.task_hub_name, links.connection_param(self._settings.connection_name), code
        )
        return links.management_urls(origin + links.webhook_path(), instance_id, query)

    async def wait_for_completion_or_create_check_status_response(
        self,
        request: func.HttpRequest,
        instance_id: str,
        timeout_in_milliseconds: int = 10000,
        retry_interval_in_milliseconds: int = 1000,
    ) -> func.HttpResponse:
        """Wait for the instance, answering as the SDK does.

        Completed: 200 with the output; Terminated or Canceled: 200, and Failed: 500, with
        the status; still running at the timeout: the check-status response.
        """
        number_arg(timeout_in_milliseconds, "timeout_in_milliseconds")
        number_arg(retry_interval_in_milliseconds, "retry_interval_in_milliseconds")
        status = await self.wait_for_final_status(
            instance_id, timeout_in_milliseconds / 1000, retry_interval_in_milliseconds / 1000
        )
        done = links.final_status_response(status, failed_code=500)
        return done or self.create_check_status_response(request, instance_id)

    async def wait_for_final_status(
        self, instance_id: str, timeout_s: float, interval_s: float
    ) -> DurableOrchestrationStatus:
        """Poll until the instance finishes or `timeout_s` passes; the last status seen."""
        instance_id_arg(instance_id)
        number_arg(timeout_s, "timeout_s")
        number_arg(interval_s, "interval_s")
        if interval_s > timeout_s:
            raise ValueError(
                f"the retry interval ({interval_s * 1000:g} ms) must not be longer than the "
                f"timeout ({timeout_s * 1000:g} ms)"
            )
        deadline = time.monotonic() + timeout_s
        while True:
            status = await self.get_status(instance_id, show_input=True)
            remaining = deadline - time.monotonic()
            finished = status.runtime_status is not None and status.runtime_status.is_terminal
            if finished or remaining <= 0:
                return status
            await asyncio.sleep(min(max(interval_s, 0.01), remaining))
