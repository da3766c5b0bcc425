"""7. Memory: the host's resident set with N orchestrations waiting on timers.

A fresh host; its VmRSS is read from /proc/<pid>/status once it is ready (baseline), then N
`wait_timer` instances (a one-hour timer each) are started at once; once no row is Pending
any more (each has run its first episode: history committed, timer message sent, row
Running) and SETTLE_S have passed, VmRSS and VmHWM (the peak) are read again.
"""

from __future__ import annotations

import asyncio
import uuid

from bench.context import Bench
from bench.observer import UNFINISHED
from bench.results import Section, Target

POLL_S = 0.25
TIMEOUT_S = 900.0
SETTLE_S = 2.0
TIMER_S = 3600


async def run(bench: Bench) -> Section:
    n = bench.sizes.memory_waiting
    section = Section("memory", f"Memory: host RSS with {n} orchestrations waiting on timers")
    async with bench.host("mem") as (host, observer):
        await asyncio.sleep(1.0)
        baseline = host.memory_kb()
        prefix = f"mem{uuid.uuid4().hex[:6]}-"
        await observer.start_many("wait_timer", n, prefix, TIMER_S)
        await observer.wait_prefix(prefix, POLL_S, TIMEOUT_S, statuses=UNFINISHED[:1])
        await asyncio.sleep(SETTLE_S)
        after = host.memory_kb()
        records = await observer.records(prefix)
    running = sum(r.runtime_status.name == "Running" for r in records)
    rss = after["VmRSS"] / 1024
    section.add("rss_mb", f"RSS with {n} waiting", rss, "MB",
                target=Target("<=", 300, applies=n >= 1000))
    section.add("peak_mb", "peak RSS (VmHWM)", after["VmHWM"] / 1024, "MB")
    section.add("baseline_mb", "RSS of the idle host before", baseline["VmRSS"] / 1024, "MB")
    section.add("per_instance_kb", "RSS growth per waiting orchestration",
                (after["VmRSS"] - baseline["VmRSS"]) / n, "KB")
    section.details = {"waiting": n, "running": running, "baseline_kb": baseline,
                       "after_kb": after}
    if running != n:
        section.error = f"{running} of {n} instances are Running"
    return section
