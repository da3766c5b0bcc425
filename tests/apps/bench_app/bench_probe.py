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
  id, its resident memory and the runtime's counters (`durable.runtime.stats`: episodes,
  live-session hits, history loads, ETag conflicts, activity executions).
- it watches the same requests for writes of an `...Instances` table row whose
  `RuntimeStatus` is terminal (Completed, Failed, Terminated, Canceled) and notes when the
  write returned: the moment any client could first read the instance as finished. The
  long-polls `GET /api/_bench/finished/{id}` and `GET /api/_bench/finished?prefix=&count=`
  answer as soon as that happened, so a benchmark learns of completions without polling
  storage (which would load Azurite, and add a poll interval to every figure). It relies
  only on Durable Functions' Instances table schema, not on the runtime's code.

Counting is a dict increment per request; the wrapper adds no I/O.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

from durable.runtime import stats as runtime_stats

_lock = threading.Lock()
_wire: Counter[str] = Counter()
_endpoints: list[tuple[str, int | None, str, str]] = []  # (host, port, path prefix, service)
_started = time.time()
_installed = False
_TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")
_WRITES = ("PUT", "MERGE", "PATCH", "POST")
# instance id -> (terminal status, wall time its row write returned)
_finished: dict[str, tuple[str, float]] = {}
_waiters: list[_Waiter] = []


class _Waiter:
    """A long-poll waiting for `count` finished instances whose ids start with `prefix`."""

    def __init__(self, prefix: str, count: int) -> None:
        self.prefix = prefix
        self.count = count
        self.seen = [at for iid, (_, at) in _finished.items() if iid.startswith(prefix)]
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.check()

    def add(self, instance_id: str, at: float) -> None:
        if instance_id.startswith(self.prefix):
            self.seen.append(at)
            self.check()

    def check(self) -> None:
        if len(self.seen) >= self.count and not self.done.done():
            self.done.set_result(None)


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


def _watch(request: Any, response: Any) -> None:
    """Note a terminal Instances row write once it has succeeded."""
    if request.method not in _WRITES or "Instances" not in str(request.url):
        return
    body = getattr(request, "content", None) or getattr(request, "data", None)
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes) or b'"RuntimeStatus"' not in body:
        return
    if getattr(response, "status_code", 500) >= 300:
        return
    row = json.loads(body)
    status = row.get("RuntimeStatus")
    instance_id = row.get("PartitionKey")
    if status not in _TERMINAL or not isinstance(instance_id, str):
        return
    at = time.time()
    _finished[instance_id] = (status, at)
    for waiter in _waiters:
        waiter.add(instance_id, at)


def _wrap_async(cls: Any) -> None:
    original = cls.send

    @functools.wraps(original)
    async def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        _count(request)
        response = await original(self, request, *args, **kwargs)
        _watch(request, response)
        return response

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
            "runtime": runtime_stats.snapshot(),
        }
        return func.HttpResponse(json.dumps(body), mimetype="application/json")

    async def bench_finished(req: func.HttpRequest) -> func.HttpResponse:
        """Wait (up to `timeout` s) until instance {id} finished, or until `count` instances
        with ids starting with `prefix` did; 408 at the timeout."""
        instance_id = req.route_params.get("id")
        prefix = instance_id if instance_id else req.params.get("prefix", "")
        count = 1 if instance_id else int(req.params.get("count", "1"))
        waiter = _Waiter(prefix, count)
        _waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.done),
                                   float(req.params.get("timeout", "60")))
        except TimeoutError:
            body = {"finished": len(waiter.seen), "count": count}
            return func.HttpResponse(json.dumps(body), status_code=408,
                                     mimetype="application/json")
        finally:
            _waiters.remove(waiter)
        body = {"finished": len(waiter.seen), "first_at": min(waiter.seen),
                "last_at": max(waiter.seen),
                "status": _finished[instance_id][0] if instance_id else None}
        return func.HttpResponse(json.dumps(body), mimetype="application/json")

    app.function_name("bench_requests")(
        app.route(route="_bench/requests", methods=["GET"])(bench_requests)
    )
    app.function_name("bench_finished")(
        app.route(route="_bench/finished/{id?}", methods=["GET"])(bench_finished)
    )
