"""One HTTP connection pool for all three storage services, a request counter, and the
translation of "cannot connect" into our own error.

Sharing one aiohttp session keeps a host with many task-hub clients to one connection pool.
The counter sits on the transport, below the SDKs' retry policies, so it counts the requests
Azure bills (retries included) rather than SDK calls.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit

import aiohttp
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import AioHttpTransport, AsyncHttpTransport

from durable.errors import (
    HistoryConflictError,
    InstanceConflictError,
    StorageUnavailableError,
)

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Answers that say "not now" rather than "not this request": a timeout, throttling, the
# service's own failures.
_TRANSIENT_STATUS = {408, 429}
# Azurite closes a connection idle for 5 s (Node's keep-alive default; Azurite's
# `--keepAliveTimeout`). aiohttp keeps one for 15 s, and notices the close only once its event
# loop reads the socket: a loop busy at that moment sends the next request on a dead
# connection ("connection reset by peer"). Against Azurite we stop reusing a connection well
# before the server stops keeping it.
AZURITE_KEEPALIVE_S = 2.5
_AIOHTTP_KEEPALIVE_S = 15.0


class RequestCounter:
    """Storage requests by kind (`"table.batch"`, `"queue.send"`, ...): a dict increment each."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, kind: str) -> None:
        self._counts[kind] += 1

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)

    def reset(self) -> None:
        self._counts.clear()


def classify_request(service: str, method: str, url: str) -> str:
    """Name a request by what it does, so a benchmark can say where transactions go."""
    path = urlsplit(url).path
    query = urlsplit(url).query
    method = method.upper()
    if service == "table":
        if path.endswith("$batch"):
            return "table.batch"
        if path.rstrip("/").endswith("Tables") or "Tables(" in path:
            return "table.admin"
        if method == "GET":
            return "table.get" if "PartitionKey=" in path else "table.query"
        names = {"POST": "insert", "PUT": "replace", "MERGE": "merge", "PATCH": "merge"}
        return "table." + names.get(method, method.lower())
    if service == "queue":
        if "/messages" in path:
            names = {"POST": "send", "GET": "receive", "DELETE": "delete", "PUT": "update"}
            return "queue." + names.get(method, method.lower())
        return "queue.admin"
    if "comp=batch" in query:
        return f"{service}.batch"
    if "restype=container" in query:
        return f"{service}.list" if "comp=list" in query else f"{service}.admin"
    names = {"PUT": "upload", "GET": "download", "HEAD": "properties", "DELETE": "delete"}
    return f"{service}." + names.get(method, method.lower())


# mypy sees azure-core's aiohttp transport as Any (its module imports aiohttp lazily).
class PoolTransport(AioHttpTransport):  # type: ignore[misc]
    """azure-core's aiohttp transport with a connection pool whose keep-alive we choose.

    `keepalive_seconds` must stay below the server's own idle timeout, or a pooled
    connection can be reused just as the server closes it.
    """

    session: aiohttp.ClientSession | None
    _has_been_opened: bool

    def __init__(self, *, keepalive_seconds: float = _AIOHTTP_KEEPALIVE_S, **kwargs: Any) -> None:
        super().__init__(use_env_settings=False, **kwargs)
        self._keepalive_seconds = keepalive_seconds

    async def open(self) -> None:
        if self.session is None and not self._has_been_opened:
            # What azure-core's own session has (no cookies, no decompression, and with
            # use_env_settings=False no proxy lookups), plus our keep-alive.
            self.session = aiohttp.ClientSession(
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                connector=aiohttp.TCPConnector(keepalive_timeout=self._keepalive_seconds),
            )
        await super().open()


def keepalive_for(connection_string: str) -> float:
    """How long to keep an idle connection to this account: short for Azurite, aiohttp's
    default elsewhere (each reuse saves Azure a TLS handshake)."""
    return AZURITE_KEEPALIVE_S if is_emulator(connection_string) else _AIOHTTP_KEEPALIVE_S


def connection_parts(connection_string: str) -> dict[str, str]:
    """A connection string's settings by lower-cased name (Azure reads the names without
    regard to case)."""
    pairs = (p.split("=", 1) for p in connection_string.strip().strip(";").split(";") if "=" in p)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def is_emulator(connection_string: str) -> bool:
    """Whether a connection string names Azurite: its well-known account, or only loopback
    endpoints."""
    parts = connection_parts(connection_string)
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        return True
    if parts.get("accountname") == "devstoreaccount1":
        return True
    endpoints = [v for k, v in parts.items() if k.endswith("endpoint")]
    return bool(endpoints) and all(is_loopback(e) for e in endpoints)


class CountingTransport(AsyncHttpTransport[Any, Any]):
    """A per-service view of the shared transport: counts, and never closes the pool itself.

    The SDK clients close their transport when they are closed; the pool belongs to the
    TaskHub, which closes the real transport once, last.
    """

    def __init__(self, inner: AioHttpTransport, service: str, counter: RequestCounter) -> None:
        self._inner = inner
        self._service = service
        self._counter = counter

    async def send(self, request: Any, **kwargs: Any) -> Any:
        self._counter.add(classify_request(self._service, request.method, request.url))
        return await self._inner.send(request, **kwargs)

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> CountingTransport:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        pass

    async def sleep(self, duration: float) -> None:
        await self._inner.sleep(duration)


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _LOOPBACK


def unavailable_error(endpoint: str, exc: BaseException) -> StorageUnavailableError:
    if is_loopback(endpoint):
        hint = (
            "Nothing answers there: start Azurite (`npx azurite`, or let "
            "`python -m emulator start` start it) or fix the connection string."
        )
    else:
        hint = "Check the connection string, the account's network rules and your connection."
    reason = getattr(exc, "message", None) or str(exc)
    return StorageUnavailableError(f"Azure Storage is unreachable at {endpoint} ({reason}). {hint}")


class HasEndpoint(Protocol):
    @property
    def endpoint(self) -> str: ...


S = TypeVar("S", bound=HasEndpoint)
P = ParamSpec("P")
R = TypeVar("R")


def storage_call(
    fn: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Turn a connection failure (after the SDK's retries) into `StorageUnavailableError`.

    Applied to the public async methods of the stores; `self.endpoint` names the service.
    """

    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(self, *args, **kwargs)
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise unavailable_error(self.endpoint, exc) from exc

    functools.update_wrapper(wrapper, fn)
    return wrapper


@asynccontextmanager
async def translating(endpoint: str) -> AsyncIterator[None]:
    """`storage_call` for code that is not a store method (task hub provisioning)."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise unavailable_error(endpoint, exc) from exc


def is_transient(exc: BaseException) -> bool:
    """Whether a failure is storage's, not the request's: trying the same thing again later
    can succeed (unreachable, timed out, throttled, a 5xx, another writer got there first)."""
    if isinstance(exc, (StorageUnavailableError, HistoryConflictError, InstanceConflictError,
                        ServiceRequestError, ServiceResponseError, TimeoutError,
                        ConnectionError)):
        return True
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        return status >= 500 or status in _TRANSIENT_STATUS
    return False
