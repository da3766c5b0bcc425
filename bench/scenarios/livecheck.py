"""What checking live sessions against replays costs (host.json `verifyLiveSessions`).

For each setting (off, sampled at 10 %, always) a fresh host: hello-3 one at a time (as the
latency scenario measures it) and a burst started at once (as the throughput scenario). A
checked episode replays the instance's whole history in a fresh session besides resuming the
live one, so the cost grows with history; hello-3 is the common short case.
"""

from __future__ import annotations

import asyncio

from bench.context import (
    LIVE_CHECK_RATE,
    LIVE_CHECK_SETTING,
    Bench,
    cpu_used,
    hello3_one_at_a_time,
    warm_up,
)
from bench.results import Section, percentile
from bench.scenarios.throughput import burst

TIMEOUT_S = 60.0
MODES = (("off", None), ("sampled", 0.1), ("always", None))


async def run(bench: Bench) -> Section:
    runs, n = bench.sizes.livecheck_runs, bench.sizes.livecheck_burst
    section = Section("livecheck", "Live sessions checked against replays: off, sampled, always")
    for mode, rate in MODES:
        env = {LIVE_CHECK_SETTING: mode}
        if rate is not None:
            env[LIVE_CHECK_RATE] = str(rate)
        label = f"{mode} ({rate:.0%})" if rate is not None else mode
        async with bench.host(f"lc{mode[:2]}", env) as (host, observer):
            await warm_up(observer)
            await asyncio.sleep(0.5)
            cpu = bench.cpu(host)
            latency = await hello3_one_at_a_time(observer, runs, TIMEOUT_S)
            used = cpu_used(cpu, bench.cpu(host))
            got = await burst(bench, host, observer, n)
        p50 = percentile(latency, 50)
        section.add(f"{mode}_p50_ms", f"{label}: hello-3 p50, one at a time (n={runs})",
                    p50 * 1000, "ms", floor_seconds=p50)
        section.add(f"{mode}_host_cpu_ms", f"{label}: host CPU per hello-3, one at a time",
                    used["host"] / runs * 1000, "ms")
        section.add(f"{mode}_per_s", f"{label}: orchestrations/s, {n} started at once",
                    n / got["wall_s"], "/s", floor_seconds=got["wall_s"] / n)
        section.add(f"{mode}_burst_cpu_ms", f"{label}: host CPU per hello-3 in the burst",
                    got["cpu"]["host"] / n * 1000, "ms")
        section.details[mode] = {"latency_ms": [round(v * 1000, 2) for v in latency],
                                 "completed": got["completed"]}
        if got["completed"] != n:
            section.error = f"{mode}: only {got['completed']} of {n} completed"
    return section
