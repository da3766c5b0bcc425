"""5. A long sequence: one orchestration calls the `stamp` activity N times in a row; each
activity returns the wall-clock time it ran.

step i = stamp[i] - stamp[i-1]: one full round (completion message, orchestrator episode
with replay of the whole history so far unless a session is cached, history commit, next
work item, activity). The mean of the first W steps against the last W shows whether an
episode gets slower as history grows (it must not: replay cost must stay flat). Total time
= start request to the Completed row written, as in the latency scenario.
"""

from __future__ import annotations

import asyncio
import json
import time

from bench.context import Bench, cpu_used, warm_up
from bench.results import Section, Target, mean, percentile

TIMEOUT_S = 1800.0


async def run(bench: Bench) -> Section:
    n = bench.sizes.sequence
    w = bench.sizes.sequence_window
    section = Section("sequence", f"Long sequence: {n} activities one after another")
    async with bench.host("seq") as (host, observer):
        await warm_up(observer)
        await asyncio.sleep(0.5)
        cpu = bench.cpu(host)
        began = time.time()
        iid = await observer.start("long_sequence", n)
        record, written = await observer.finished(iid, TIMEOUT_S)
        used = cpu_used(cpu, bench.cpu(host))
    stamps = json.loads(record.output or "[]") if record.runtime_status.name == "Completed" else []
    if len(stamps) != n:
        section.error = f"{record.runtime_status.name}, {len(stamps)} of {n} steps"
        return section
    steps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    first, last = mean(steps[:w]), mean(steps[-w:])
    wall = written - began
    section.add("total_s", "total time", wall, "s")
    section.add("first_mean_ms", f"mean step, first {w}", first * 1000, "ms",
                floor_seconds=first)
    section.add("last_mean_ms", f"mean step, last {w}", last * 1000, "ms", floor_seconds=last)
    section.add("last_over_first", f"last {w} / first {w}", last / first, "x",
                target=Target("<=", 1.3, applies=n == 300 and w == 50))
    section.add("host_cpu_ms", "host CPU per step", used["host"] / n * 1000, "ms")
    section.details = {
        "cpu_s": used,
        "steps": n,
        "window": w,
        "step_p50_ms": percentile(steps, 50) * 1000,
        "step_p95_ms": percentile(steps, 95) * 1000,
        "steps_ms": [round(s * 1000, 2) for s in steps],
    }
    return section
