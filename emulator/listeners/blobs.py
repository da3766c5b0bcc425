"""Blob triggers: the scanner that finds blobs (emulator.listeners.blob_scan), the queue
their messages wait in, and the handler that runs functions from it
(emulator.listeners.blob_queue), wired together for the host.

The blob trigger queue is read with `extensions.blobs` of host.json turned into queue
options as the blob extension does (emulator.settings.BlobOptions), and with the empty-poll
back-off of `extensions.queues.maxPollingInterval`. Its messages are sent from this process,
so they wake its listener at once (emulator.wakeup).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator.binding_io import BindingIO
from emulator.invoker import Invoker
from emulator.listeners.blob_queue import BlobTriggerHandler
from emulator.listeners.blob_receipts import HOSTS_CONTAINER, Receipts, host_id, trigger_queue
from emulator.listeners.blob_scan import BlobScanner, ContainerScan, encoded
from emulator.listeners.queue import QueueListener
from emulator.plan import HostPlan
from emulator.settings import HostConfig
from emulator.storage import DEFAULT_CONNECTION, QueueClients, ServiceClients, StorageAccount


class BlobTriggers:
    def __init__(self, app_dir: Path, plan: HostPlan, config: HostConfig, clients: QueueClients,
                 services: ServiceClients) -> None:
        self._app_dir = app_dir
        self._plan = plan
        self._config = config
        self._clients = clients
        self._services = services
        self.scanner = BlobScanner()

    def blob_written(self, account: StorageAccount, container: str) -> None:
        self.scanner.wake((account.connection_string, container))

    async def start(self, io: BindingIO, invoker: Invoker) -> list[Any]:
        """The listeners to run (the trigger queue's and the scanner), scanning begun."""
        if not self._plan.blob_triggers:
            return []
        host = self._plan.accounts[DEFAULT_CONNECTION]
        hid = host_id(self._app_dir)
        queue_name = trigger_queue(hid)
        queue_client = await self._clients.ensure_queue(host, queue_name)
        receipts = Receipts(self._services.blob(host).get_container_client(HOSTS_CONTAINER), hid)

        async def enqueue(message: str) -> None:
            await queue_client.send_message(encoded(message))

        handler = BlobTriggerHandler(io, invoker, self._services, host)
        for trigger in self._plan.blob_triggers:
            handler.register(trigger)
            container = self._services.blob(trigger.account).get_container_client(
                trigger.container)
            scan = self.scanner.add(
                (trigger.account.connection_string, trigger.container),
                ContainerScan(trigger.account.account_name, container, receipts, enqueue))
            scan.functions.append(trigger)
        options = replace(self._config.blobs.as_queue_options(),
                          max_polling_interval=self._config.queues.max_polling_interval)
        listener = QueueListener(host, queue_name, self._clients, options, handler.handle,
                                 handler.poison_target)
        await self.scanner.start()
        return [listener, self.scanner]
