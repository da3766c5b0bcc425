"""The composition root: everything durable that a process holds, in one object.

A Functions worker process imports `function_app.py` once and then calls the dispatcher,
management and client-injecting Functions many times, possibly on more than one event loop
(the emulator runs one; a test may run many). What must outlive one call lives here and
nowhere else: the registry of durable functions (the decorators fill it, the dispatchers
read it), the clock, and per event loop the task hubs, workers and clients (storage clients
and asyncio primitives belong to the loop that made them; a loop that is closed and
collected takes its state with it).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from durable.client import DurableOrchestrationClient
from durable.core.messages import TaskMessage
from durable.core.registry import DurableRegistry
from durable.runtime.clock import Clock
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings, load_layout, load_settings
from durable.storage.taskhub import TaskHub

HubKey = tuple[str, str]


def hub_key(settings: TaskHubSettings) -> HubKey:
    """Hub names are case-insensitive in storage (queue names are lower case)."""
    return settings.hub_name.lower(), settings.connection_string


@dataclass
class _LoopState:
    hubs: dict[HubKey, TaskHub] = field(default_factory=dict)
    workers: dict[HubKey, DurableWorker] = field(default_factory=dict)
    clients: dict[tuple[str | None, str | None], DurableOrchestrationClient] = field(
        default_factory=dict
    )


class DurableProcess:
    """The process-wide state of the durable library (see the module docstring)."""

    def __init__(self) -> None:
        self.registry = DurableRegistry()
        self.clock = Clock()
        # The first durable container of a process carries the dispatcher Functions, so that
        # a `df.Blueprint` on a plain `func.FunctionApp` still brings them, and two never do.
        self.dispatchers_taken = False
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def layout(self) -> TaskHubSettings:
        """The task hub's settings for naming queues when the app is indexed (no connection
        string needed yet)."""
        return load_layout()

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._loops.get(loop)
        if state is None:
            state = self._loops[loop] = _LoopState()
        return state

    async def task_hub(self, settings: TaskHubSettings) -> TaskHub:
        """The task hub of this loop for `settings`, created in storage on first use."""
        state = self._state()
        key = hub_key(settings)
        hub = state.hubs.get(key)
        if hub is None:
            hub = state.hubs[key] = TaskHub(settings)
        await hub.create_if_not_exists()
        return hub

    async def worker(self, settings: TaskHubSettings | None = None) -> DurableWorker:
        """The worker of the app's task hub on this loop: what the dispatchers call."""
        settings = settings or load_settings()
        state = self._state()
        key = hub_key(settings)
        worker = state.workers.get(key)
        if worker is None:
            hub = await self.task_hub(settings)
            worker = state.workers.get(key)
            if worker is None:
                worker = DurableWorker(settings, hub, self.registry, self.clock)
                state.workers[key] = worker
        await worker.ready()
        return worker

    def client(
        self, task_hub: str | None = None, connection_name: str | None = None
    ) -> DurableOrchestrationClient:
        """The client `durable_client_input` injects and the management API uses: one per
        event loop, hub and connection, sharing the loop's task hub with the worker."""
        try:
            state = self._state()
        except RuntimeError:  # no running loop: a client for synchronous use only
            return self._new_client(load_settings(task_hub, connection_name))
        key = (task_hub, connection_name)
        client = state.clients.get(key)
        if client is None:
            client = state.clients[key] = self._new_client(
                load_settings(task_hub, connection_name)
            )
        return client

    def _new_client(self, settings: TaskHubSettings) -> DurableOrchestrationClient:
        async def hub() -> TaskHub:
            return await self.task_hub(settings)

        key = hub_key(settings)

        async def deliver(message: TaskMessage) -> bool:
            # A start from this process runs on this process's worker of the hub, if it
            # has one: no queue round trip, and no wait for a poll.
            worker = self._state().workers.get(key)
            if worker is None:
                return False
            await worker.deliver(message)
            return True

        return DurableOrchestrationClient.for_app(
            settings, hub, functions=self.registry, clock=self.clock, deliver=deliver
        )


process = DurableProcess()
