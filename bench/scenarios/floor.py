"""1. The floor: what single Azurite calls cost from Python, through the same SDKs (async,
aiohttp) the runtime uses. Every other figure is also shown as a multiple of this."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from azure.core.credentials import AzureNamedKeyCredential
from azure.data.tables import ResourceTypes as TableResources
from azure.data.tables import generate_account_sas as table_account_sas
from azure.data.tables.aio import TableServiceClient
from azure.storage.queue import AccountSasPermissions as QueuePermissions
from azure.storage.queue import ResourceTypes as QueueResources
from azure.storage.queue import generate_account_sas as queue_account_sas
from azure.storage.queue.aio import QueueServiceClient

from bench.context import Bench
from bench.results import Section, percentile
from emulator.storage import DEV_ACCOUNT, DEV_KEY

BODY = "x" * 200  # about a small task message
WARM_UP = 5
IN_FLIGHT = 32


def _row(pk: str, i: int) -> dict[str, Any]:
    return {"PartitionKey": pk, "RowKey": f"{i:08d}", "EventType": "TaskCompleted",
            "Result": BODY}


KINDS = ("queue put", "queue get", "queue delete", "table insert", "table batch (4 rows)")


async def run(bench: Bench) -> Section:
    section = Section("floor", "Floor: single Azurite calls (sequential, one at a time)")
    n = bench.sizes.floor_calls
    name = f"floor{uuid.uuid4().hex[:8]}"
    qs = QueueServiceClient.from_connection_string(bench.connection_string)
    ts = TableServiceClient.from_connection_string(bench.connection_string)
    async with qs, ts:
        queue = await qs.create_queue(name)
        table = await ts.create_table(name)
        samples, cpu = await _sdk_calls(queue, table, n)
        raw = await _raw_calls(queue.url, f"{ts.url.rstrip('/')}/{name}", WARM_UP + n)
        count = bench.sizes.floor_concurrent
        capacity = {
            "queue put": await _rate(count, lambda i: queue.send_message(BODY)),
            "table insert": await _rate(count,
                                        lambda i: table.create_entity(_row("many", i))),
        }
        await qs.delete_queue(name)
        await ts.delete_table(name)
    pooled: list[float] = []
    for key, values in samples.items():
        pooled.extend(values)
        p50 = percentile(values, 50)
        section.add(f"{_slug(key)}_p50_ms", f"{key} p50", p50 * 1000, "ms", floor_seconds=p50)
    unit = percentile(pooled, 50)
    section.add("unit_ms", "one storage round trip (p50 of the five calls above)",
                unit * 1000, "ms", floor_seconds=unit)
    for key, seconds in cpu.items():
        section.add(f"{_slug(key)}_cpu_ms", f"{key}: client CPU per call (SDK + aiohttp)",
                    seconds / n * 1000, "ms")
    for key, (values, cpu_s) in raw.items():
        p50 = percentile(values, 50)
        section.add(f"raw_{_slug(key)}_p50_ms", f"{key} p50, raw aiohttp + SAS (no SDK)",
                    p50 * 1000, "ms", floor_seconds=p50)
        section.add(f"raw_{_slug(key)}_cpu_ms", f"{key}: client CPU per call, raw aiohttp",
                    cpu_s / len(values) * 1000, "ms")
    for key, rate in capacity.items():
        section.add(f"{_slug(key)}_per_s", f"{key}, {IN_FLIGHT} in flight", rate, "/s",
                    floor_seconds=1 / rate)
    section.details = {
        "calls_each": n,
        "p95_ms": {k: percentile(v, 95) * 1000 for k, v in samples.items()},
        "concurrent_calls": count,
    }
    return section


def _slug(kind: str) -> str:
    return kind.split(" (")[0].replace(" ", "_")


async def _sdk_calls(queue: Any, table: Any, n: int) -> tuple[dict[str, list[float]],
                                                               dict[str, float]]:
    """n rounds of put, get, delete, insert, batch: wall seconds of each call, and the CPU
    seconds this process spent on each kind in all (the SDK's and aiohttp's own cost)."""
    samples: dict[str, list[float]] = {k: [] for k in KINDS}
    cpu = dict.fromkeys(KINDS, 0.0)
    for i in range(WARM_UP + n):
        for kind, wall, used in await _round(queue, table, i):
            if i >= WARM_UP:
                samples[kind].append(wall)
                cpu[kind] += used
    return samples, cpu


async def _round(queue: Any, table: Any, i: int) -> list[tuple[str, float, float]]:
    """One call of each kind: (kind, wall seconds, CPU seconds)."""
    out: list[tuple[str, float, float]] = []
    clock = (time.perf_counter(), time.process_time())

    def lap(kind: str) -> None:
        nonlocal clock
        now = (time.perf_counter(), time.process_time())
        out.append((kind, now[0] - clock[0], now[1] - clock[1]))
        clock = now

    await queue.send_message(BODY)
    lap(KINDS[0])
    received = await _receive_one(queue)
    lap(KINDS[1])
    await queue.delete_message(received[0])
    lap(KINDS[2])
    await table.create_entity(_row("single", i))
    lap(KINDS[3])
    await table.submit_transaction([("create", _row(f"batch{i}", j)) for j in range(4)])
    lap(KINDS[4])
    return out


async def _raw_calls(queue_url: str, table_url: str,
                     count: int) -> dict[str, tuple[list[float], float]]:
    """The same puts and inserts sent with plain aiohttp and an account SAS: what a call costs
    without the SDK pipeline (policies, signing, XML/JSON models), for comparison only."""
    key = AzureNamedKeyCredential(DEV_ACCOUNT, DEV_KEY)
    expiry = datetime.now(UTC) + timedelta(hours=1)
    queue_sas = queue_account_sas(DEV_ACCOUNT, DEV_KEY, QueueResources(object=True),
                                  QueuePermissions(add=True), expiry)
    table_sas = table_account_sas(key, TableResources(object=True), "a", expiry)
    message = f"<QueueMessage><MessageText>{BODY}</MessageText></QueueMessage>"
    headers = {"Accept": "application/json;odata=nometadata",
               "Content-Type": "application/json", "DataServiceVersion": "3.0",
               "x-ms-version": "2019-02-02"}
    out: dict[str, tuple[list[float], float]] = {}
    async with aiohttp.ClientSession() as session:
        calls = {
            "queue put": lambda i: session.post(f"{queue_url}/messages?{queue_sas}",
                                                data=message),
            "table insert": lambda i: session.post(
                f"{table_url}?{table_sas}", headers=headers,
                data=json.dumps(_row("raw", i))),
        }
        for name, call in calls.items():
            values: list[float] = []
            cpu = 0.0
            for i in range(count):
                began, began_cpu = time.perf_counter(), time.process_time()
                async with call(i) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        raise RuntimeError(f"raw {name}: HTTP {resp.status} {resp.url} "
                                           f"{(await resp.text())[:300]}")
                if i >= WARM_UP:
                    values.append(time.perf_counter() - began)
                    cpu += time.process_time() - began_cpu
            out[name] = (values, cpu)
    return out


async def _receive_one(queue: Any) -> list[Any]:
    pager = queue.receive_messages(messages_per_page=1, max_messages=1, visibility_timeout=30)
    return [m async for m in pager]


async def _rate(count: int, call: Callable[[int], Awaitable[Any]]) -> float:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return count / (time.perf_counter() - began)
