"""Running blob-triggered functions from the blob trigger queue, as the host's shared blob
queue listener does.

A message names the function, the container, the blob and the ETag the scan saw. The
function runs when the blob still has that ETag; a blob deleted since, a blob changed since
(its new version gets its own message) or a function this host no longer has deletes the
message without a run. A run that fails leaves the message to come back, up to
`extensions.blobs.poisonBlobThreshold` (5) attempts; then it moves to
`webjobs-blobtrigger-poison` in the blob's storage account, unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueMessage as StorageMessage

from emulator import sdk_types, trigger_data
from emulator.binding_io import BindingIO
from emulator.blobs import BlobContent, input_value, plain_annotation
from emulator.invoker import InvocationFailed, Invoker
from emulator.listeners.blob_receipts import POISON_QUEUE, function_id
from emulator.listeners.blob_scan import quoted
from emulator.logs import host_logger
from emulator.plan import BlobTriggerPlan
from emulator.storage import ServiceClients, StorageAccount
from emulator.targets import BlobTarget

SOURCE = "LogsAndContainerScan"
_log = host_logger("blob")


def _message(content: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.b64decode(content, validate=True))
    except (binascii.Error, ValueError):
        try:
            value = json.loads(content)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


class BlobTriggerHandler:
    def __init__(self, io: BindingIO, invoker: Invoker, services: ServiceClients,
                 host_account: StorageAccount) -> None:
        self._io = io
        self._invoker = invoker
        self._services = services
        self._host_account = host_account
        self._functions: dict[str, BlobTriggerPlan] = {}

    def register(self, plan: BlobTriggerPlan) -> None:
        self._functions[function_id(plan.spec.name)] = plan

    def poison_target(self, message: StorageMessage) -> tuple[StorageAccount, str]:
        body = _message(message.content) or {}
        plan = self._functions.get(str(body.get("FunctionId")))
        return (plan.account if plan else self._host_account), POISON_QUEUE

    async def handle(self, message: StorageMessage, body: bytes) -> bool:
        parsed = _message(body.decode("utf-8", errors="replace"))
        if parsed is None or not parsed.get("FunctionId"):
            _log.error("Message %s on the blob trigger queue is not a blob trigger message.",
                       message.id)
            return False
        plan = self._functions.get(str(parsed["FunctionId"]))
        container, name = str(parsed.get("ContainerName")), str(parsed.get("BlobName"))
        if plan is None:
            _log.warning("No function '%s' in this host for blob '%s/%s' (message %s): the "
                         "message is removed.", parsed["FunctionId"], container, name,
                         message.id)
            return True
        annotation = plain_annotation(plan.spec.annotations.get(plan.spec.trigger.name))
        sdk = sdk_types.converter("blob", annotation) is not None
        content = await self._read(plan, container, name, with_data=not sdk)
        if content is None:
            _log.info("Blob '%s/%s' no longer exists (message %s).", container, name, message.id)
            return True
        if quoted(content.properties.get("ETag")) != quoted(parsed.get("ETag")):
            _log.debug("Blob '%s/%s' changed since it was queued: its new version runs "
                       "instead.", container, name)
            return True
        return await self._run(plan, content, message, annotation, sdk)

    async def _read(self, plan: BlobTriggerPlan, container: str, name: str,
                    with_data: bool) -> BlobContent | None:
        if with_data:
            return await self._io.download(plan.account, container, name)
        client = self._services.blob(plan.account).get_blob_client(container, name)
        try:
            props = await client.get_blob_properties()
        except ResourceNotFoundError:
            return None
        return BlobContent(container, name, client.url, b"",
                           {"ETag": props.etag, "ContentLength": props.size},
                           dict(props.metadata or {}))

    async def _run(self, plan: BlobTriggerPlan, content: BlobContent, message: StorageMessage,
                   annotation: Any, sdk: bool) -> bool:
        if sdk:
            target = BlobTarget(plan.account, plan.connection, plan.pattern, plan.pattern, None)
            value = await self._io.blob_value(target, content.container, content.name,
                                              annotation)
        else:
            value = input_value(content, annotation)
        captured = plan.pattern.capture(content.name) or {}
        data = trigger_data.blob_data(captured, content.path, content.uri, content.properties,
                                      content.metadata)
        inserted = message.inserted_on.isoformat() if message.inserted_on else "?"
        details = (f"Trigger Details: MessageId: {message.id}, DequeueCount: "
                   f"{message.dequeue_count}, InsertedOn: {inserted}, BlobCreated: "
                   f"{content.properties.get('CreatedOn')}, BlobLastModified: "
                   f"{content.properties.get('LastModified')}")
        try:
            await self._invoker.invoke(plan.spec, value,
                                       f"New blob detected({SOURCE}): {content.path}", details,
                                       data)
            return True
        except InvocationFailed:
            return False
