"""What the blob trigger keeps in the host's storage account, named as the Functions host
names it, so that a blob version runs once across restarts and across hosts of one app:

- the host ID: `AzureFunctionsWebHost__hostid` if set, else (as Core Tools derives it
  locally) the machine name's letters and digits, a dash, and a stable hash of the app
  folder; lowercase, at most 32 characters. Hosts with the same ID share receipts.
- receipts: `azure-webjobs-hosts/blobreceipts/{hostId}/Host.Functions.{name}/{ETag}/
  {container}/{blob}`, an empty blob with metadata `Incomplete` until the blob's message is
  queued. The first host to create it and take its 30 s lease queues the message; the
  others see it leased or complete and leave it.
- scan info: `azure-webjobs-hosts/blobscaninfo/{hostId}/{account}/{container}/scanInfo`,
  `{"LatestScan": ...}`: blobs last modified before it are not looked at after a restart.
- the queue `azure-webjobs-blobtrigger-{hostId}`, where found blobs wait for their function.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import zlib
from datetime import datetime
from enum import Enum
from pathlib import Path

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient, BlobLeaseClient, ContainerClient

from emulator.errors import ConfigError

HOSTS_CONTAINER = "azure-webjobs-hosts"
POISON_QUEUE = "webjobs-blobtrigger-poison"
LEASE_SECONDS = 30
INCOMPLETE = "Incomplete"
_HOST_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


def host_id(app_dir: Path) -> str:
    configured = os.environ.get("AzureFunctionsWebHost__hostid")
    if configured:
        if not _HOST_ID.match(configured):
            raise ConfigError(
                f"AzureFunctionsWebHost__hostid '{configured}' is not a valid host ID: 1-32 "
                "lowercase letters, digits and dashes, not starting or ending with a dash."
            )
        return configured
    machine = "".join(c for c in socket.gethostname() if c.isalnum())
    digest = zlib.crc32(str(app_dir.resolve()).encode("utf-8"))
    return f"{machine}-{digest}"[:32].lower().rstrip("-")


def function_id(name: str) -> str:
    return f"Host.Functions.{name}"


def trigger_queue(host: str) -> str:
    return f"azure-webjobs-blobtrigger-{host}"


class Receipt(Enum):
    MISSING = "missing"
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"


class Receipts:
    """Receipts and scan info in the host account's `azure-webjobs-hosts` container."""

    def __init__(self, container: ContainerClient, host: str) -> None:
        self._container = container
        self._host = host

    def receipt(self, function: str, etag: str, container: str, blob: str) -> BlobClient:
        # The ETag comes before the blob name, which may itself contain slashes.
        name = f"blobreceipts/{self._host}/{function_id(function)}/{etag}/{container}/{blob}"
        return self._container.get_blob_client(name)

    async def read(self, receipt: BlobClient) -> Receipt:
        try:
            props = await receipt.get_blob_properties()
        except ResourceNotFoundError:
            return Receipt.MISSING
        keys = {k.lower() for k in (props.metadata or {})}
        return Receipt.INCOMPLETE if INCOMPLETE.lower() in keys else Receipt.COMPLETE

    async def create(self, receipt: BlobClient) -> bool:
        """Create an incomplete receipt; False if one exists (another host got there first)."""
        for attempt in (1, 2):
            try:
                await receipt.upload_blob(b"", metadata={INCOMPLETE: INCOMPLETE},
                                          match_condition=MatchConditions.IfMissing)
                return True
            except ResourceExistsError:
                return False
            except ResourceNotFoundError:  # the container: made once, then tried again
                if attempt == 2:
                    raise
                with contextlib.suppress(ResourceExistsError):
                    await self._container.create_container()
            except HttpResponseError as exc:
                if exc.status_code in (409, 412):  # exists, or leased by another host
                    return False
                raise
        return False

    async def lease(self, receipt: BlobClient) -> BlobLeaseClient | None:
        try:
            return await receipt.acquire_lease(LEASE_SECONDS)
        except (ResourceNotFoundError, ResourceExistsError):
            return None
        except HttpResponseError as exc:
            if exc.status_code == 409:
                return None
            raise

    async def complete(self, receipt: BlobClient, lease: BlobLeaseClient) -> None:
        with contextlib.suppress(ResourceNotFoundError, ResourceExistsError):
            try:
                await receipt.set_blob_metadata({}, lease=lease)
            except HttpResponseError as exc:
                if exc.status_code != 412:  # the lease was lost: leave it
                    raise

    async def release(self, lease: BlobLeaseClient) -> None:
        with contextlib.suppress(ResourceNotFoundError, HttpResponseError):
            await lease.release()

    def _scan_info(self, account: str, container: str) -> BlobClient:
        return self._container.get_blob_client(
            f"blobscaninfo/{self._host}/{account}/{container}/scanInfo")

    async def load_latest_scan(self, account: str, container: str) -> datetime | None:
        try:
            stream = await self._scan_info(account, container).download_blob()
            text = await stream.readall()
            return datetime.fromisoformat(json.loads(text)["LatestScan"])
        except (ResourceNotFoundError, ValueError, KeyError, TypeError):
            return None

    async def save_latest_scan(self, account: str, container: str, latest: datetime) -> None:
        """Best effort, as the host's: a lost update only means more receipts are looked at."""
        body = json.dumps({"LatestScan": latest.isoformat()})
        client = self._scan_info(account, container)
        with contextlib.suppress(HttpResponseError):
            try:
                await client.upload_blob(body, overwrite=True)
            except ResourceNotFoundError:
                with contextlib.suppress(ResourceExistsError):
                    await self._container.create_container()
                await client.upload_blob(body, overwrite=True)
