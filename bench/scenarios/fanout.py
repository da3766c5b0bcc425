"""4. Fan-out/fan-in: one orchestration schedules N activities at once and waits for all
(`task_all`); and 6b, the storage requests per fan-out activity.

wall = when the host's write of the instance's Completed row returned (the bench app's
long-poll /api/_bench/finished/{id} reports it) - the wall clock just before the start
request. The
requests per activity are everything the host sent during the run (the orchestration's own
start and episodes included) divided by N. The host's peak RSS (VmHWM of a fresh host) and
the orchestration's episodes per 1,000 completions (the runtime's episode counter: how well
fan-in batches completions into one episode) are reported for each N.
"""

from __future__ import annotations

import asyncio
import json
import time

from bench.context import Bench, cpu_used, warm_up
from bench.observer import epoch
from bench.results import Section, Target
from bench.scenarios.latency import add_per_unit

TIMEOUT_S = 1800.0
TARGETS = {1000: 8.0, 5000: 25.0, 10000: 60.0}
FULL_SIZES = (1000, 5000, 10000)
RSS_TARGET_MB = 400.0  # during the 10,000 run


async def run(bench: Bench, calls: Section) -> Section:
    sizes = bench.sizes.fan_out
    section = Section("fanout", "Fan-out/fan-in: N activities in one orchestration")
    for index, n in enumerate(sizes):
        async with bench.host(f"fo{n}") as (host, observer):
            await warm_up(observer)
            await asyncio.sleep(0.5)
            before = await host.counts(bench.session)
            cpu = bench.cpu(host)
            began = time.time()
            iid = await observer.start("fan_out", n)
            record, written = await observer.finished(iid, TIMEOUT_S)
            used = cpu_used(cpu, bench.cpu(host))
            await asyncio.sleep(0.5)
            spent = (await host.counts(bench.session)).minus(before)
            peak_mb = host.memory_kb().get("VmHWM", 0) / 1024
        wall = written - began
        full = FULL_SIZES[index] if index < len(FULL_SIZES) else None
        bound = TARGETS.get(full) if full is not None else None
        target = Target("<=", bound, applies=n == full) if bound is not None else None
        section.add(f"wall_s_{n}", f"wall time, {n} activities", wall, "s", target=target)
        section.add(f"per_activity_ms_{n}", f"wall time per activity, {n} activities",
                    wall / n * 1000, "ms", floor_seconds=wall / n)
        section.add(f"peak_rss_mb_{n}", f"host peak RSS, {n} activities", peak_mb, "MB",
                    target=Target("<=", RSS_TARGET_MB, applies=n == full)
                    if full == 10000 else None)
        episodes = spent.runtime.get("episodes", 0)
        section.add(f"episodes_per_1000_{n}", f"orchestration episodes per 1,000 completions, {n}",
                    episodes / n * 1000, "")
        ok = record.runtime_status.name == "Completed" and json.loads(record.output or "0") == n
        for name, label in (("host", "host"), ("azurite", "Azurite")):
            section.add(f"{name}_cpu_ms_{n}", f"{label} CPU per activity, {n} activities",
                        used[name] / n * 1000, "ms")
        section.details[str(n)] = {"status": record.runtime_status.name, "cpu_s": used,
                                   "output": record.output,
                                   "to_completed_time_s": (epoch(record.completed_time)
                                                           or written) - began}
        if not ok:
            section.error = f"fan-out {n}: {record.runtime_status.name}, output {record.output}"
        if index == 0:
            add_per_unit(calls, "fanout_activity", f"per fan-out activity (N={n})",
                         spent.wire, spent.durable, n, Target("<=", 4))
    return section
