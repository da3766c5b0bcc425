"""What a benchmark needs to see inside a host process: its storage requests on the wire.

`install(app)` does two things, for any v2 `function_app.py`:

- it wraps `send` of azure-core's HTTP transports (`AioHttpTransport`, and the sync
  `RequestsTransport`) for the whole process, so every storage request is counted whoever
  sends it: the durable worker, the durable client in HTTP starters, and the host's own
  queue listeners (polls, deletes, lease renewals, poison moves, queue creation). The count
  sits below the SDKs' retry policies, so each attempt of a retried call counts, as Azure
  bills it. Requests are named as `durable.storage.transport.classify_request` names them
  (`queue.receive`, `table.batch`, ...), the service found from the endpoints of the
  `AzureWebJobsStorage` connection string.
- it registers `GET /api/_bench/requests`, which answers with those counts, the durable
  worker's own `hub.request_counts` (what the durable library sent, a subset), the process
  id and its resident memory.

Counting is a dict increment per request; the wrapper adds no I/O.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

_lock = threading.Lock()
_wire: Counter[str] = Counter()
_endpoints: list[tuple[str, int | None, str, str]] = []  # (host, port, path prefix, service)
_started = time.time()
_installed = False


def _load_endpoints() -> None:
    from durable.storage.settings import resolve_connection_string

    try:
        conn = resolve_connection_string("AzureWebJobsStorage", os.environ)
    except ValueError:
        return
    parts = dict(p.split("=", 1) for p in conn.strip().strip(";").split(";") if "=" in p)
    for key, value in parts.items():
        name = key.strip().lower()
        if name in ("blobendpoint", "queueendpoint", "tableendpoint"):
            url = urlsplit(value.strip())
            service = name.removesuffix("endpoint")
            _endpoints.append((url.hostname or "", url.port, url.path.rstrip("/"), service))


def _service_of(url: str) -> str:
    parts = urlsplit(url)
    for host, port, prefix, service in _endpoints:
        if parts.hostname == host and parts.port == port and parts.path.startswith(prefix):
            return service
    host = parts.hostname or ""
    for service in ("blob", "queue", "table"):
        if f".{service}." in host:
            return service
    return "other"


def _count(request: Any) -> None:
    from durable.storage.transport import classify_request

    url = str(request.url)
    service = _service_of(url)
    kind = classify_request(service, request.method, url) if service != "other" else "other"
    with _lock:
        _wire[kind] += 1


def _wrap_async(cls: Any) -> None:
    original = cls.send

    @functools.wraps(original)
    async def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        _count(request)
        return await original(self, request, *args, **kwargs)

    cls.send = send


def _wrap_sync(cls: Any) -> None:
    original = cls.send

    @functools.wraps(original)
    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        _count(request)
        return original(self, request, *args, **kwargs)

    cls.send = send


def wire_counts() -> dict[str, int]:
    with _lock:
        return dict(_wire)


def durable_counts() -> dict[str, int] | None:
    """The durable workers' own counters (all task hubs of this process), if reachable."""
    try:
        from durable.runtime import worker
    except ImportError:
        return None
    workers = getattr(worker, "_workers", None)
    if not isinstance(workers, dict):
        return None
    total: Counter[str] = Counter()
    for w in list(workers.values()):
        hub = getattr(w, "hub", None)
        counts = getattr(hub, "request_counts", None)
        if isinstance(counts, dict):
            total.update(counts)
    return dict(total)


def memory_kb() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def install(app: Any) -> None:
    """Count this process's storage requests and serve them at `GET /api/_bench/requests`."""
    global _installed
    if not _installed:
        from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport

        _load_endpoints()
        _wrap_async(AioHttpTransport)
        _wrap_sync(RequestsTransport)
        _installed = True

    async def bench_requests(req: func.HttpRequest) -> func.HttpResponse:
        body = {
            "pid": os.getpid(),
            "uptime_s": time.time() - _started,
            "wire": wire_counts(),
            "durable": durable_counts(),
            "memory_kb": memory_kb(),
        }
        return func.HttpResponse(json.dumps(body), mimetype="application/json")

    app.function_name("bench_requests")(
        app.route(route="_bench/requests", methods=["GET"])(bench_requests)
    )
