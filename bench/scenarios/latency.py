"""2. hello-3 latency on an idle host, one orchestration at a time; and 6a, the storage
requests one hello-3 costs.

Each run: the bench notes the wall clock, POSTs /api/start/hello_sequence (the HTTP starter
calls `client.start_new` in the host), then polls the Instances row from its own process
every POLL_S until it is terminal.
- observed = when the bench saw the row Completed - when it sent the start request: what a
  client sees; it overstates by up to one poll interval plus one table read.
- recorded = the row's CompletedTime (the host's clock when the episode that completed the
  instance ran, before the row was written) - the same start time: it understates by the
  final row write. Same machine, same wall clock.
The next run starts once the previous one is seen complete and SETTLE_S have passed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.context import Bench, warm_up
from bench.host import without_admin
from bench.observer import epoch
from bench.results import Section, Target, percentile, total

POLL_S = 0.005
SETTLE_S = 0.02
TIMEOUT_S = 60.0


async def run(bench: Bench) -> list[Section]:
    latency = Section("hello3", "hello-3 latency: start to Completed, one at a time, idle host")
    calls = Section("calls", "Storage requests counted on the wire (host process)")
    runs = bench.sizes.latency_runs
    observed: list[float] = []
    recorded: list[float] = []
    failed = 0
    async with bench.host("lat") as (host, observer):
        await warm_up(observer)
        await asyncio.sleep(0.5)
        before = await host.counts(bench.session)
        for _ in range(runs):
            began = time.time()
            iid = await observer.start("hello_sequence")
            record, seen = await observer.wait(iid, POLL_S, TIMEOUT_S)
            failed += record.runtime_status.name != "Completed"
            observed.append(seen - began)
            recorded.append((epoch(record.completed_time) or seen) - began)
            await asyncio.sleep(SETTLE_S)
        await asyncio.sleep(0.5)  # the last messages' deletes
        spent = (await host.counts(bench.session)).minus(before)
    p50 = percentile(observed, 50)
    latency.add("p50_ms", f"p50 observed by a client (n={runs})", p50 * 1000, "ms",
                floor_seconds=p50, target=Target("<=", 75))
    p95 = percentile(observed, 95)
    latency.add("p95_ms", "p95 observed by a client", p95 * 1000, "ms", floor_seconds=p95)
    r50 = percentile(recorded, 50)
    latency.add("recorded_p50_ms", "p50 to CompletedTime recorded by the host", r50 * 1000,
                "ms", floor_seconds=r50)
    r95 = percentile(recorded, 95)
    latency.add("recorded_p95_ms", "p95 to CompletedTime recorded by the host", r95 * 1000,
                "ms", floor_seconds=r95)
    latency.details = {"runs": runs, "failed": failed, "poll_s": POLL_S,
                       "observed_ms": [round(v * 1000, 2) for v in observed],
                       "recorded_ms": [round(v * 1000, 2) for v in recorded]}
    add_per_unit(calls, "hello3", "per hello-3 orchestration", spent.wire, spent.durable,
                 runs, Target("<=", 20))
    return [latency, calls]


def add_per_unit(section: Section, key: str, what: str, wire: dict[str, int],
                 durable: dict[str, int] | None, units: int, target: Target | None) -> None:
    """Per-unit totals: everything on the wire, the same without queue polls, and the durable
    library's own share; the breakdown by kind goes to the details."""
    wire = without_admin(wire)
    section.add(f"per_{key}", f"{what}: all requests of the host", total(wire) / units,
                "calls", target=target)
    section.add(f"per_{key}_no_receive", f"{what}: without queue.receive (polls)",
                total(wire, skip=("queue.receive",)) / units, "calls")
    if durable is not None:
        section.add(f"per_{key}_durable", f"{what}: sent by the durable library",
                    total(without_admin(durable)) / units, "calls")
    detail: dict[str, Any] = {
        "units": units,
        "wire_per_unit": {k: round(v / units, 3) for k, v in wire.items()},
    }
    if durable is not None:
        detail["durable_per_unit"] = {k: round(v / units, 3)
                                      for k, v in without_admin(durable).items()}
    section.details[key] = detail
