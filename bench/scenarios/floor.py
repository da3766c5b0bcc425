"""1. The floor: what single Azurite calls cost from Python, through the same SDKs (async,
aiohttp) the runtime uses. Every other figure is also shown as a multiple of this."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from azure.data.tables.aio import TableServiceClient
from azure.storage.queue.aio import QueueServiceClient

from bench.context import Bench
from bench.results import Section, percentile

BODY = "x" * 200  # about a small task message
WARM_UP = 5
IN_FLIGHT = 32


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = await fn()
    return time.perf_counter() - began, result


def _row(pk: str, i: int) -> dict[str, Any]:
    return {"PartitionKey": pk, "RowKey": f"{i:08d}", "EventType": "TaskCompleted",
            "Result": BODY}


async def run(bench: Bench) -> Section:
    section = Section("floor", "Floor: single Azurite calls (sequential, one at a time)")
    n = bench.sizes.floor_calls
    name = f"floor{uuid.uuid4().hex[:8]}"
    samples: dict[str, list[float]] = {k: [] for k in ("queue put", "queue get", "queue delete",
                                                        "table insert", "table batch (4 rows)")}
    qs = QueueServiceClient.from_connection_string(bench.connection_string)
    ts = TableServiceClient.from_connection_string(bench.connection_string)
    async with qs, ts:
        queue = await qs.create_queue(name)
        table = await ts.create_table(name)
        for i in range(WARM_UP + n):
            keep = i >= WARM_UP
            put, _ = await timed(lambda: queue.send_message(BODY))
            get, msgs = await timed(lambda: _receive_one(queue))
            delete, _ = await timed(lambda msgs=msgs: queue.delete_message(msgs[0]))
            insert, _ = await timed(lambda i=i: table.create_entity(_row("single", i)))
            ops = [("create", _row(f"batch{i}", j)) for j in range(4)]
            batch, _ = await timed(lambda ops=ops: table.submit_transaction(ops))
            if keep:
                for key, value in zip(samples, (put, get, delete, insert, batch), strict=True):
                    samples[key].append(value)
        capacity = {
            "queue put": await _rate(bench.sizes.floor_concurrent,
                                     lambda i: queue.send_message(BODY)),
            "table insert": await _rate(bench.sizes.floor_concurrent,
                                        lambda i: table.create_entity(_row("many", i))),
        }
        await qs.delete_queue(name)
        await ts.delete_table(name)
    pooled: list[float] = []
    for key, values in samples.items():
        pooled.extend(values)
        slug = key.split(" (")[0].replace(" ", "_")
        section.add(f"{slug}_p50_ms", f"{key} p50", percentile(values, 50) * 1000, "ms",
                    floor_seconds=percentile(values, 50))
    unit = percentile(pooled, 50)
    section.add("unit_ms", "one storage round trip (p50 of all the calls above)", unit * 1000,
                "ms", floor_seconds=unit)
    for key, rate in capacity.items():
        slug = key.replace(" ", "_")
        section.add(f"{slug}_per_s", f"{key}, {IN_FLIGHT} in flight", rate, "/s",
                    floor_seconds=1 / rate)
    section.details = {
        "calls_each": n,
        "p95_ms": {k: percentile(v, 95) * 1000 for k, v in samples.items()},
        "concurrent_calls": bench.sizes.floor_concurrent,
    }
    return section


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
