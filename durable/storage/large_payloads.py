"""Payloads too big for a queue message or a table property, kept gzip-compressed in blobs.

Azure caps a queue message at 64 KB (48 KB of text once base64-encoded, which the Functions
queue trigger expects) and a table property at 64 KB of UTF-16. DF's thresholds leave room
for the envelope: 45 KB of UTF-8 JSON per message, 60 KB of UTF-16 per property. Every blob
of an instance lives under `{escaped instance id}/`, so purge deletes them by prefix.
"""

from __future__ import annotations

import asyncio
import gzip
import secrets
from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from durable.errors import LargePayloadMissingError
from durable.storage.names import blob_prefix, blob_safe
from durable.storage.transport import storage_call

QUEUE_MESSAGE_LIMIT = 45 * 1024
TABLE_PROPERTY_LIMIT = 60 * 1024
BLOB_NAME_SUFFIX = "BlobName"
# Compressing megabytes takes tens of milliseconds; off the event loop beyond this size.
_THREAD_THRESHOLD = 1024 * 1024
_DELETE_CONCURRENCY = 16
_NOT_OFFLOADED = frozenset({"PartitionKey", "RowKey", "ExecutionId", "EventType"})


def exceeds_table_limit(value: str) -> bool:
    # A char is at most 4 bytes in UTF-16, so short strings need no encoding to decide.
    if len(value) * 4 <= TABLE_PROPERTY_LIMIT:
        return False
    return len(value.encode("utf-16-le")) > TABLE_PROPERTY_LIMIT


def message_blob_name(instance_id: str, message_id: str, event_type: str) -> str:
    return f"{blob_prefix(instance_id)}message-{blob_safe(message_id)}-{event_type}.json.gz"


async def _compress(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > _THREAD_THRESHOLD:
        return await asyncio.to_thread(gzip.compress, data, 6)
    return gzip.compress(data, 6)


async def _decompress(data: bytes) -> str:
    if len(data) > _THREAD_THRESHOLD // 8:
        raw = await asyncio.to_thread(gzip.decompress, data)
    else:
        raw = gzip.decompress(data)
    return raw.decode("utf-8")


class LargePayloadStore:
    """The `{hub}-largemessages` container."""

    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    @property
    def endpoint(self) -> str:
        return str(self._container.url)

    @property
    def container_name(self) -> str:
        return str(self._container.container_name)

    def blob_name_from_reference(self, reference: str) -> str:
        """Accept a bare blob name or an absolute blob URL (DF 1.x wrote URLs)."""
        if "://" not in reference:
            return reference
        path = unquote(urlsplit(reference).path)
        marker = f"/{self.container_name}/"
        return path.split(marker, 1)[1] if marker in path else path.rsplit("/", 1)[-1]

    @storage_call
    async def upload(self, blob_name: str, text: str) -> None:
        data = await _compress(text)
        await self._container.upload_blob(
            blob_name, data, overwrite=True, content_type="application/gzip"
        )

    @storage_call
    async def download(self, blob_name: str) -> str:
        try:
            stream = await self._container.download_blob(blob_name)
            data = await stream.readall()
        except ResourceNotFoundError:
            raise LargePayloadMissingError(
                f"payload blob {blob_name!r} is missing from container "
                f"{self.container_name!r}; the instance was probably purged"
            ) from None
        return await _decompress(data)

    @storage_call
    async def delete(self, blob_names: Iterable[str]) -> int:
        """Delete blobs, ignoring those already gone; returns how many were deleted."""
        gate = asyncio.Semaphore(_DELETE_CONCURRENCY)

        async def one(name: str) -> int:
            async with gate:
                try:
                    await self._container.delete_blob(name)
                    return 1
                except ResourceNotFoundError:
                    return 0

        return sum(await asyncio.gather(*(one(n) for n in blob_names)))

    @storage_call
    async def list_instance_blobs(self, instance_id: str) -> list[str]:
        prefix = blob_prefix(instance_id)
        return [b.name async for b in self._container.list_blobs(name_starts_with=prefix)]

    async def delete_instance(self, instance_id: str) -> int:
        """Every payload blob of an instance (purge)."""
        return await self.delete(await self.list_instance_blobs(instance_id))

    async def offload_properties(
        self,
        entity: MutableMapping[str, Any],
        stem: str,
        columns: Iterable[str] | None = None,
    ) -> list[str]:
        """Move oversized string properties to blobs, leaving `{Prop}BlobName` and `{Prop}=""`.

        `stem` is the blob name up to the random part, e.g. `{prefix}history-{RowKey}-{Type}`;
        the random part keeps two racing writers of the same row from sharing a blob.
        `columns` limits which properties may move (default: any string property but keys).
        Returns the names uploaded, so a failed commit can remove them again.
        """
        allowed = None if columns is None else set(columns)
        large = [
            key
            for key, value in entity.items()
            if key not in _NOT_OFFLOADED
            and (allowed is None or key in allowed)
            and isinstance(value, str)
            and exceeds_table_limit(value)
        ]
        names = [f"{stem}-{secrets.randbits(32):08X}-{key}.json.gz" for key in large]
        await asyncio.gather(
            *(self.upload(n, entity[k]) for n, k in zip(names, large, strict=True))
        )
        for name, key in zip(names, large, strict=True):
            entity[key + BLOB_NAME_SUFFIX] = name
            entity[key] = ""
        return names

    async def fetch_properties(self, entity: MutableMapping[str, Any]) -> None:
        """Inverse of `offload_properties`, in place."""
        refs = [
            (key[: -len(BLOB_NAME_SUFFIX)], value)
            for key, value in entity.items()
            if key.endswith(BLOB_NAME_SUFFIX) and isinstance(value, str) and value
        ]
        texts = await asyncio.gather(*(self.download(name) for _, name in refs))
        for (prop, _), text in zip(refs, texts, strict=True):
            entity[prop] = text
            del entity[prop + BLOB_NAME_SUFFIX]
