"""3. Throughput: N hello-3 started at once on one host.

One POST to the bench app's /api/_bench/start_many starts all N inside the host (64
`start_new` calls in flight), so the HTTP round trips of N requests are not part of the
figure. The bench then long-polls /api/_bench/finished?prefix=&count=N, answered when the
host's N-th terminal Instances row write has returned. wall = that moment - the wall clock
just before the POST; orchestrations/s = N / wall, activities/s = 3N / wall. Nothing polls
storage while the burst runs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from bench.context import Bench, add_cpu, cpu_used, warm_up
from bench.host import BenchHost, without_admin
from bench.observer import Observer, epoch
from bench.results import Section, Target, percentile, total

TIMEOUT_S = 900.0
ACTIVITIES = 3


async def burst(bench: Bench, host: BenchHost, observer: Observer, n: int) -> dict[str, Any]:
    """Start n hello-3 at once and wait for all; what the section and the profile report."""
    prefix = f"tp{uuid.uuid4().hex[:6]}-"
    before = await host.counts(bench.session)
    cpu = bench.cpu(host)
    began = time.time()
    started = await observer.start_many("hello_sequence", n, prefix)
    finished = await observer.finished_many(prefix, n, TIMEOUT_S)
    used = cpu_used(cpu, bench.cpu(host))
    window = time.time() - began
    records = await observer.records(prefix)
    await asyncio.sleep(0.5)
    spent = (await host.counts(bench.session)).minus(before)
    each = [(epoch(r.completed_time) or 0.0) - (epoch(r.created_time) or 0.0) for r in records]
    wall = float(finished["last_at"]) - began
    return {
        "n": n,
        "wall_s": wall,
        "start_s": started["ended"] - began,
        "completed": sum(r.runtime_status.name == "Completed" for r in records),
        "each_p50_s": percentile(each, 50),
        "each_p95_s": percentile(each, 95),
        "wire": without_admin(spent.wire),
        "cpu": used,
        "cpu_window_s": window,
    }


async def run(bench: Bench) -> Section:
    n = bench.sizes.throughput
    section = Section("throughput", f"Throughput: {n} hello-3 started at once, one host")
    async with bench.host("tp") as (host, observer):
        await warm_up(observer)
        await asyncio.sleep(0.5)
        got = await burst(bench, host, observer, n)
    wall = got["wall_s"]
    applies = n == 500
    rate = n / wall
    section.add("orchestrations_per_s", "orchestrations/s", rate, "/s", floor_seconds=1 / rate,
                target=Target(">=", 25, applies))
    section.add("activities_per_s", "activities/s", ACTIVITIES * n / wall, "/s",
                floor_seconds=wall / (ACTIVITIES * n))
    section.add("wall_s", f"wall time for all {n}", wall, "s")
    section.add("start_s", f"time to start all {n} (start_new in the host)", got["start_s"], "s")
    section.add("each_p50_s", "per orchestration, created to completed, p50",
                got["each_p50_s"], "s", floor_seconds=got["each_p50_s"])
    section.add("each_p95_s", "per orchestration, created to completed, p95",
                got["each_p95_s"], "s", floor_seconds=got["each_p95_s"])
    wire = got["wire"]
    section.add("calls_per_orchestration", "storage requests per orchestration (under load)",
                total(wire) / n, "calls")
    section.add("calls_per_s", "storage requests/s sent by the host", total(wire) / wall, "/s",
                floor_seconds=wall / max(total(wire), 1))
    add_cpu(section, got["cpu"], got["cpu_window_s"], n, "orchestration")
    section.details |= {"completed": got["completed"], "n": n,
                       "wire_per_orchestration": {k: round(v / n, 3) for k, v in wire.items()}}
    if got["completed"] != n:
        section.error = f"only {got['completed']} of {n} completed"
    return section
