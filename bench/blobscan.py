#!/usr/bin/env python3
"""Blob trigger costs: what one scan of a container of 10,000 blobs costs (storage requests
and time), and how long a blob waits from its upload to its function's invocation.

Scans run the host's own scanner (emulator.listeners.blob_scan) in this process against a
private Azurite, with every request counted at the transport. Latency runs a real host
(`python -m emulator start --no-reload` on tests/apps/bench_blob_app) at the default scan
interval (10 s) and at 1 s, uploads blobs spread over one interval, and reads when each run
started from the function's own report.

    python bench/blobscan.py [--blobs 10000] [--samples 20] [--skip-latency]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from azure.core.pipeline import PipelineRequest  # noqa: E402
from azure.storage.blob.aio import BlobServiceClient  # noqa: E402
from azure.storage.queue import QueueClient  # noqa: E402
from azure.storage.queue.aio import QueueClient as AsyncQueueClient  # noqa: E402

from bench.azurite import PrivateAzurite, free_ports  # noqa: E402
from emulator import expressions  # noqa: E402
from emulator.listeners.blob_receipts import HOSTS_CONTAINER, Receipts  # noqa: E402
from emulator.listeners.blob_scan import ContainerScan, ScanStats, encoded  # noqa: E402
from emulator.plan import BlobTriggerPlan  # noqa: E402

APP = ROOT / "tests" / "apps" / "bench_blob_app"
READY = "Host started ("


class Counting:
    """Counts every request sent (retries included), by kind: a `raw_request_hook`, which
    the clients made from a service client share."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __call__(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        http = request.http_request
        query = http.url.split("?", 1)[1] if "?" in http.url else ""
        comp = next((p.split("=", 1)[1] for p in query.split("&") if p.startswith("comp=")), "")
        service = "queue" if "/bench-scan-queue" in http.url else "blob"
        self.counts[f"{service} {http.method} {comp or '-'}".lower()] += 1

    def take(self) -> Counter[str]:
        counts, self.counts = self.counts, Counter()
        return counts


async def fill(service: BlobServiceClient, container: str, count: int, prefix: str) -> None:
    client = service.get_container_client(container)
    names = iter(range(count))

    async def worker() -> None:
        for i in names:
            await client.upload_blob(f"{prefix}{i:06d}.txt", b"x", overwrite=True)

    await asyncio.gather(*(worker() for _ in range(32)))


async def sweep(scan: ContainerScan, budget: int) -> tuple[ScanStats, int, float]:
    """Polls until a sweep ends: (summed stats, polls, seconds)."""
    total = ScanStats()
    polls = 0
    started = time.perf_counter()
    while True:
        stats = await scan.poll(budget)
        polls += 1
        total.listed += stats.listed
        total.candidates += stats.candidates
        total.queued += stats.queued
        if stats.sweep_done:
            return total, polls, time.perf_counter() - started


async def scan_costs(connection: str, blobs: int) -> list[dict[str, Any]]:
    counter = Counting()
    service = BlobServiceClient.from_connection_string(connection, raw_request_hook=counter)
    container = "scan-" + uuid.uuid4().hex[:8]
    queue = AsyncQueueClient.from_connection_string(connection, "bench-scan-queue",
                                                    raw_request_hook=counter)
    rows: list[dict[str, Any]] = []
    async with service, queue:
        await queue.create_queue()
        await service.create_container(container)
        await fill(service, container, blobs, "b")
        pattern = expressions.parse("{name}")
        plan = BlobTriggerPlan(_FakeSpec("on_blob"), None, "AzureWebJobsStorage",  # type: ignore[arg-type]
                               container, pattern)

        async def enqueue(message: str) -> None:
            await queue.send_message(encoded(message))

        def new_scan() -> ContainerScan:
            receipts = Receipts(service.get_container_client(HOSTS_CONTAINER), "benchhost")
            scan = ContainerScan("devstoreaccount1", service.get_container_client(container),
                                 receipts, enqueue)
            scan.functions.append(plan)
            return scan

        scan = new_scan()
        await scan.load()
        counter.take()
        for label, target in (("first sweep: every blob new", scan),
                              ("next sweep: nothing new", scan),
                              ("restart without scan info: receipts read", new_scan())):
            stats, polls, seconds = await sweep(target, 10_000)
            rows.append(_row(label, stats, polls, seconds, counter.take()))
        await fill(service, container, 100, "new")
        stats, polls, seconds = await sweep(scan, 10_000)
        rows.append(_row("sweep with 100 new blobs", stats, polls, seconds, counter.take()))
        await service.delete_container(container)
        await service.delete_container(HOSTS_CONTAINER)
        await queue.delete_queue()
    return rows


class _FakeSpec:
    """The only part of a FunctionSpec the scanner reads."""

    def __init__(self, name: str) -> None:
        self.name = name


def _row(label: str, stats: ScanStats, polls: int, seconds: float,
         counts: Counter[str]) -> dict[str, Any]:
    return {"scan": label, "listed": stats.listed, "queued": stats.queued, "polls": polls,
            "requests": sum(counts.values()), "by kind": dict(sorted(counts.items())),
            "seconds": round(seconds, 2)}


@contextmanager
def host(connection: str, interval: float, container: str, queue: str) -> Iterator[None]:
    env = {"AzureWebJobsStorage": connection, "BENCH_CONTAINER": container,
           "BENCH_QUEUE": queue, "EMULATOR_BLOB_SCAN_SECONDS": str(interval),
           "PYTHONUNBUFFERED": "1", "PATH": str(Path(sys.executable).parent)}
    command = [sys.executable, "-m", "emulator", "start", "--no-reload", "--script-root",
               str(APP), "--port", str(free_ports(1)[0])]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(READY):
            break
    else:
        raise SystemExit(f"the bench host did not start (exit {process.wait()})")
    try:
        yield
    finally:
        process.terminate()
        process.wait(60)


def latency(connection: str, interval: float, samples: int) -> dict[str, Any]:
    container = "lat-" + uuid.uuid4().hex[:8]
    queue_name = "lat-" + uuid.uuid4().hex[:8]
    from azure.storage.blob import BlobServiceClient as SyncService

    blobs = SyncService.from_connection_string(connection).get_container_client(container)
    blobs.create_container()
    runs = QueueClient.from_connection_string(connection, queue_name)
    runs.create_queue()
    uploaded: dict[str, float] = {}
    with host(connection, interval, container, queue_name):
        time.sleep(interval)  # the first scan has happened: uploads land mid-interval
        spacing = interval / samples
        for i in range(samples):
            name = f"sample-{i:03d}.txt"
            blobs.upload_blob(name, b"x")
            uploaded[f"{container}/{name}"] = time.time()
            time.sleep(spacing)
        waits = _collect(runs, uploaded, deadline=time.monotonic() + interval * 3 + 30)
    blobs.delete_container()
    runs.delete_queue()
    waits.sort()
    return {"interval s": interval, "samples": len(waits),
            "p50 ms": round(statistics.median(waits) * 1000),
            "p90 ms": round(waits[int(len(waits) * 0.9) - 1] * 1000),
            "max ms": round(waits[-1] * 1000)}


def _collect(runs: QueueClient, uploaded: dict[str, float], deadline: float) -> list[float]:
    waits: dict[str, float] = {}
    while len(waits) < len(uploaded) and time.monotonic() < deadline:
        for message in runs.receive_messages(max_messages=32):
            report = json.loads(base64.b64decode(str(message.content)))
            waits[report["name"]] = report["invoked"] - uploaded[report["name"]]
            runs.delete_message(message)
        time.sleep(0.05)
    return list(waits.values())


def table(rows: list[dict[str, Any]]) -> str:
    keys = [k for k in rows[0] if k != "by kind"]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blobs", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    with PrivateAzurite() as azurite:
        rows = asyncio.run(scan_costs(azurite.connection_string, args.blobs))
        print(f"Scans of a container of {args.blobs} blobs (one function on it):\n")
        print(table(rows))
        for row in rows:
            print(f"  {row['scan']}: {row['by kind']}")
        if not args.skip_latency:
            results = [latency(azurite.connection_string, interval, args.samples)
                       for interval in (10.0, 1.0)]
            print("\nUpload to invocation (blobs uploaded spread over one scan interval):\n")
            print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
