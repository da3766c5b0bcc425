"""Storage connections: resolve a binding's `connection` setting, parse connection strings
(`UseDevelopmentStorage=true` included), check that endpoints answer, and hand out async
queue, blob and table clients."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ServiceResponseError,
)
from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from durable.storage.transport import PoolTransport, keepalive_for
from emulator.devstorage import DEV_ACCOUNT, DEV_KEY, DEV_PORTS
from emulator.errors import StorageError
from emulator.logs import host_logger
from emulator.settings import LocalSettings, resolve_setting

DEFAULT_CONNECTION = "AzureWebJobsStorage"
# How long a start-up waits for a storage endpoint that is busy (see check_reachable).
STORAGE_PATIENCE = 60.0
_log = host_logger("storage")
START_AZURITE_HINT = (
    "Start Azurite (`npx azurite --silent --skipApiVersionCheck --loose`), or set "
    "AzureWebJobsStorage to UseDevelopmentStorage=true so that the host starts it."
)


def dev_connection_string(host: str = "127.0.0.1") -> str:
    endpoints = ";".join(
        f"{kind.capitalize()}Endpoint=http://{host}:{port}/{DEV_ACCOUNT}"
        for kind, port in DEV_PORTS.items()
    )
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"{endpoints};"
    )


@dataclass(frozen=True)
class StorageAccount:
    setting: str  # the connection setting's name, for messages
    connection_string: str
    account_name: str
    queue_endpoint: str
    development: bool  # UseDevelopmentStorage=true: the host may start Azurite


def parse_connection(setting: str, value: str) -> StorageAccount:
    """Parse a storage connection string; StorageError names the setting when malformed."""
    development = value.strip().rstrip(";").replace(" ", "").lower() == "usedevelopmentstorage=true"
    text = dev_connection_string() if development else value
    parts: dict[str, str] = {}
    pieces = [p for p in text.split(";") if p.strip()]
    for number, piece in enumerate(pieces, 1):
        key, sep, val = piece.partition("=")
        if not sep:
            # Not quoted: the piece may be (part of) the account key.
            raise StorageError(
                f"The connection string in '{setting}' is malformed: part {number} of "
                f"{len(pieces)} is not a name=value pair."
            )
        parts[key.strip().lower()] = val.strip()
    name = parts.get("accountname", "")
    endpoint = parts.get("queueendpoint")
    if endpoint is None and name:
        protocol = parts.get("defaultendpointsprotocol", "https")
        suffix = parts.get("endpointsuffix", "core.windows.net")
        endpoint = f"{protocol}://{name}.queue.{suffix}"
    if not endpoint:
        raise StorageError(
            f"The connection string in '{setting}' has neither AccountName nor QueueEndpoint.",
            "Use a storage account connection string or UseDevelopmentStorage=true.",
        )
    if not name:
        name = urlsplit(endpoint).path.strip("/").split("/")[0] or urlsplit(endpoint).hostname or ""
    return StorageAccount(setting, text, name, endpoint.rstrip("/"), development)


def resolve_connection(setting: str | None, local: LocalSettings) -> StorageAccount:
    name = setting or DEFAULT_CONNECTION
    value = resolve_setting(name, local)
    if value is None:
        raise StorageError(
            f"The storage connection '{name}' is not set.",
            f"Add \"{name}\": \"UseDevelopmentStorage=true\" (or a connection string) to "
            "Values in local.settings.json.",
        )
    return parse_connection(name, value)


def pooled(account: StorageAccount) -> PoolTransport:
    """A connection pool for one binding's client that, against Azurite, drops idle
    connections before Azurite closes them (see durable.storage.transport)."""
    return PoolTransport(keepalive_seconds=keepalive_for(account.connection_string))


async def check_reachable(account: StorageAccount, timeout: float = 5.0,
                          patience: float = STORAGE_PATIENCE) -> None:
    """One cheap request against the queue endpoint; StorageError says which one failed.

    An endpoint that refuses the connection fails at once (nothing listens there). One that
    took the request but is slow to answer, or answered with a server error, is busy, not
    absent: a replacement host starting beside others that keep a storage emulator busy
    must not exit for it, so it is asked again for up to `patience` seconds."""
    try:
        client = QueueServiceClient.from_connection_string(
            account.connection_string, retry_total=0, connection_timeout=timeout,
            read_timeout=timeout,
        )
    except ValueError as exc:  # the SDK's own words; they never quote the key
        raise StorageError(
            f"The connection string in '{account.setting}' cannot be used: {exc}",
            "Use a storage account connection string or UseDevelopmentStorage=true.",
        ) from None
    deadline = time.monotonic() + patience
    async with client:
        while True:
            try:
                await asyncio.wait_for(client.get_service_properties(), timeout)
                return
            except (AzureError, OSError, TimeoutError) as exc:
                if not _busy(exc) or time.monotonic() + timeout > deadline:
                    raise StorageError(
                        f"Cannot reach the queue endpoint {account.queue_endpoint} "
                        f"(connection '{account.setting}'): {first_line(exc)}",
                        START_AZURITE_HINT,
                    ) from None
                _log.warning("The queue endpoint %s is slow to answer (%s); asking again.",
                             account.queue_endpoint, type(exc).__name__)


def first_line(exc: BaseException) -> str:
    """What a storage error says, in one line (the SDK's run on with request details)."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _busy(exc: BaseException) -> bool:
    """A storage service that took the request and is slow or failing, not one that is
    not there (connection refused, unknown host)."""
    if isinstance(exc, TimeoutError | ServiceResponseError):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(exc, HttpResponseError) and isinstance(status, int) and status >= 500


# The SDK's default waits 15 s, then longer, between tries: a listener would notice that
# storage is back up to a minute late. Listeners retry on their own, with backoff.
RETRY_TOTAL = 2
RETRY_INITIAL_BACKOFF = 1
RETRY_INCREMENT_BASE = 2


class QueueClients:
    """Async QueueClients shared by listeners and output bindings, keyed by account and queue."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], QueueClient] = {}
        self._created: set[tuple[str, str]] = set()

    def get(self, account: StorageAccount, queue: str) -> QueueClient:
        key = (account.connection_string, queue)
        client = self._clients.get(key)
        if client is None:
            client = QueueClient.from_connection_string(
                account.connection_string, queue, retry_total=RETRY_TOTAL,
                initial_backoff=RETRY_INITIAL_BACKOFF, increment_base=RETRY_INCREMENT_BASE,
                transport=pooled(account),
            )
            self._clients[key] = client
        return client

    async def ensure_queue(self, account: StorageAccount, queue: str) -> QueueClient:
        client = self.get(account, queue)
        key = (account.connection_string, queue)
        if key not in self._created:
            with contextlib.suppress(ResourceExistsError):
                await client.create_queue()
            self._created.add(key)
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            # Closing after an outage must not stop the shutdown.
            with contextlib.suppress(Exception):
                await client.close()


class ServiceClients:
    """Async blob and table service clients for bindings, one of each per connection string."""

    def __init__(self) -> None:
        self._blobs: dict[str, BlobServiceClient] = {}
        self._tables: dict[str, TableServiceClient] = {}

    def blob(self, account: StorageAccount) -> BlobServiceClient:
        client = self._blobs.get(account.connection_string)
        if client is None:
            client = BlobServiceClient.from_connection_string(
                account.connection_string, retry_total=RETRY_TOTAL,
                initial_backoff=RETRY_INITIAL_BACKOFF, increment_base=RETRY_INCREMENT_BASE,
                transport=pooled(account),
            )
            self._blobs[account.connection_string] = client
        return client

    def table(self, account: StorageAccount) -> TableServiceClient:
        client = self._tables.get(account.connection_string)
        if client is None:
            client = TableServiceClient.from_connection_string(
                account.connection_string, transport=pooled(account))
            self._tables[account.connection_string] = client
        return client

    async def close(self) -> None:
        clients: list[BlobServiceClient | TableServiceClient] = [
            *self._blobs.values(), *self._tables.values()]
        self._blobs, self._tables = {}, {}
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()
