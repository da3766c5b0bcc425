"""Reading input bindings before an invocation and writing output bindings after it.

`prepare` resolves every binding's names from the trigger's binding data (so a missing
`{value}` fails the invocation before the function runs, as the host binds first) and reads
the inputs (blobs, table rows). `convert` turns each output value into what will be written,
and `commit` writes them: the invoker converts every output first and commits only when the
function succeeded and every conversion did, so a failure writes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from emulator import bindings, blobs, sdk_types, tables
from emulator.functions import BindingSpec, FunctionSpec
from emulator.storage import QueueClients, ServiceClients, StorageAccount
from emulator.targets import BlobTarget, QueueTarget, TableTarget, Target

BlobWritten = Callable[[StorageAccount, str], None]
"""Told (account, container) after an output binding wrote a blob there."""


@dataclass
class Prepared:
    inputs: dict[str, Any] = field(default_factory=dict)  # parameter values of input bindings
    places: dict[str, tuple[str, ...]] = field(default_factory=dict)  # outputs' resolved names


@dataclass(frozen=True)
class Write:
    binding: BindingSpec
    target: Target
    place: tuple[str, ...]
    payload: Any  # list of queue bodies, blob bytes, or table rows


def _filter_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Values substituted into an OData filter get their quotes doubled, as the host does."""
    return {k: v.replace("'", "''") if isinstance(v, str) else v for k, v in data.items()}


class BindingIO:
    def __init__(self, targets: Mapping[tuple[str, str], Target], queues: QueueClients,
                 services: ServiceClients, encoding: str,
                 blob_written: BlobWritten | None = None) -> None:
        self._targets = targets
        self._queues = queues
        self._services = services
        self._encoding = encoding
        self._blob_written = blob_written
        self._ready: set[tuple[str, str, str]] = set()  # containers / tables known to exist

    def target(self, spec: FunctionSpec, binding: BindingSpec) -> Target:
        return self._targets[(spec.name, binding.name)]

    async def prepare(self, spec: FunctionSpec, data: Mapping[str, Any]) -> Prepared:
        prepared = Prepared()
        for binding in spec.inputs:
            if binding.name in spec.params:
                prepared.inputs[binding.name] = await self._read(spec, binding, data)
        for out in (*spec.outputs, spec.return_binding):
            if out is not None and out.type != "http":
                prepared.places[out.name] = _place(self.target(spec, out), data)
        return prepared

    async def _read(self, spec: FunctionSpec, binding: BindingSpec,
                    data: Mapping[str, Any]) -> Any:
        target = self.target(spec, binding)
        if isinstance(target, TableTarget):
            table, pk, rk = _place(target, data)
            query = target.filter.resolve(_filter_data(data)) if target.filter else None
            return await tables.read(self._services.table(target.account), table,
                                     pk or None, rk or None, query, target.take)
        assert isinstance(target, BlobTarget)
        container, name = _place(target, data)
        return await self.blob_value(target, container, name, spec.annotations.get(binding.name))

    async def blob_value(self, target: BlobTarget, container: str, name: str,
                         annotation: Any) -> Any:
        """A blob as the parameter's annotation wants it (SDK client, InputStream, ...)."""
        plain = blobs.plain_annotation(annotation)
        converter = sdk_types.converter("blob", plain)
        if converter is not None:
            return sdk_types.blob_client(converter, plain, target.connection, container, name)
        return blobs.input_value(await self.download(target.account, container, name),
                                 annotation)

    async def download(self, account: StorageAccount, container: str,
                       name: str) -> blobs.BlobContent | None:
        client = self._services.blob(account).get_blob_client(container, name)
        try:
            downloader = await client.download_blob()
            data = await downloader.readall()
        except ResourceNotFoundError:
            return None
        props = downloader.properties
        return blobs.BlobContent(container, name, client.url, data, _properties(props),
                                 dict(props.metadata or {}))

    def convert(self, spec: FunctionSpec, binding: BindingSpec, place: tuple[str, ...],
                value: Any) -> Write:
        target = self.target(spec, binding)
        if isinstance(target, QueueTarget):
            payload: Any = bindings.queue_payloads(value)
        elif isinstance(target, BlobTarget):
            payload = blobs.output_bytes(value)
        else:
            payload = tables.entities(value, place[1] or None, place[2] or None)
        return Write(binding, target, place, payload)

    async def commit(self, writes: list[Write]) -> None:
        for write in writes:
            target = write.target
            if isinstance(target, QueueTarget):
                client = await self._queues.ensure_queue(target.account, target.queue_name)
                for body in write.payload:
                    await client.send_message(bindings.encode_body(body, self._encoding))
            elif isinstance(target, BlobTarget):
                await self._write_blob(target, write.place, write.payload)
            else:
                service = self._services.table(target.account)
                if await self._first(target.account, "table", write.place[0]):
                    await tables.ensure_table(service, write.place[0])
                await tables.write(service, write.place[0], write.payload)

    async def _write_blob(self, target: BlobTarget, place: tuple[str, ...], data: bytes) -> None:
        container, name = place
        service = self._services.blob(target.account)
        if await self._first(target.account, "container", container):
            with contextlib.suppress(ResourceExistsError):
                await service.create_container(container)
        await service.get_blob_client(container, name).upload_blob(data, overwrite=True)
        if self._blob_written is not None:
            self._blob_written(target.account, container)

    async def _first(self, account: StorageAccount, kind: str, name: str) -> bool:
        key = (account.connection_string, kind, name)
        if key in self._ready:
            return False
        self._ready.add(key)
        return True


def _place(target: Target, data: Mapping[str, Any]) -> tuple[str, ...]:
    if isinstance(target, QueueTarget):
        return (target.queue_name,)
    if isinstance(target, BlobTarget):
        return (target.container.resolve(data).lower(), target.blob.resolve(data))
    return (target.table.resolve(data),
            target.partition_key.resolve(data) if target.partition_key else "",
            target.row_key.resolve(data) if target.row_key else "")


def _properties(props: Any) -> dict[str, Any]:
    settings = props.content_settings
    return {
        "ContentLength": props.size,
        "Length": props.size,
        "ContentType": getattr(settings, "content_type", None),
        "ContentEncoding": getattr(settings, "content_encoding", None),
        "ETag": props.etag,
        "LastModified": props.last_modified.isoformat() if props.last_modified else None,
        "CreatedOn": props.creation_time.isoformat() if props.creation_time else None,
        "BlobType": str(getattr(props.blob_type, "value", props.blob_type)),
    }
