"""2. hello-3 latency on an idle host, one orchestration at a time; and 6a, the storage
requests one hello-3 costs.

Each run: the bench notes the wall clock, POSTs /api/start/hello_sequence (the HTTP starter
calls `client.start_new` in the host) and long-polls the bench app's
/api/_bench/finished/{id}, which answers once the host's write of the instance's terminal
Instances row has returned (bench_probe watches the host's storage requests).
- latency = the wall time that write returned - the wall time the start request was sent:
  the first moment a status query could see Completed. Same machine, same clock.
- recorded = the row's CompletedTime (the host's clock when the completing episode ran,
  before its row write) - the same start time.
- observed (details only) = when the long-poll answer reached the bench: + one local HTTP
  response.
Nothing polls storage. The next run starts SETTLE_S after the previous one finished.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.context import Bench, cpu_used, warm_up
from bench.host import without_admin
from bench.observer import epoch
from bench.results import Section, Target, percentile, total

SETTLE_S = 0.02
TIMEOUT_S = 60.0


async def run(bench: Bench) -> list[Section]:
    latency = Section("hello3", "hello-3 latency: start to Completed, one at a time, idle host")
    calls = Section("calls", "Storage requests counted on the wire (host process)")
    runs = bench.sizes.latency_runs
    latency_s: list[float] = []
    observed: list[float] = []
    recorded: list[float] = []
    failed = 0
    async with bench.host("lat") as (host, observer):
        await warm_up(observer)
        await asyncio.sleep(0.5)
        before = await host.counts(bench.session)
        cpu = bench.cpu(host)
        for _ in range(runs):
            began = time.time()
            iid = await observer.start("hello_sequence")
            record, written = await observer.finished(iid, TIMEOUT_S)
            observed.append(time.time() - began)
            failed += record.runtime_status.name != "Completed"
            latency_s.append(written - began)
            recorded.append((epoch(record.completed_time) or written) - began)
            await asyncio.sleep(SETTLE_S)
        await asyncio.sleep(0.5)  # the last messages' deletes
        spent = (await host.counts(bench.session)).minus(before)
        used = cpu_used(cpu, bench.cpu(host))
    p50 = percentile(latency_s, 50)
    latency.add("p50_ms", f"p50, start request to Completed row written (n={runs})",
                p50 * 1000, "ms", floor_seconds=p50, target=Target("<=", 75))
    p95 = percentile(latency_s, 95)
    latency.add("p95_ms", "p95, start request to Completed row written", p95 * 1000, "ms",
                floor_seconds=p95)
    r50 = percentile(recorded, 50)
    latency.add("recorded_p50_ms", "p50 to CompletedTime recorded by the host", r50 * 1000,
                "ms", floor_seconds=r50)
    r95 = percentile(recorded, 95)
    latency.add("recorded_p95_ms", "p95 to CompletedTime recorded by the host", r95 * 1000,
                "ms", floor_seconds=r95)
    latency.add("host_cpu_ms", "host CPU per hello-3", used["host"] / runs * 1000, "ms")
    latency.add("azurite_cpu_ms", "Azurite CPU per hello-3 (the bench's row reads included)",
                used["azurite"] / runs * 1000, "ms")
    latency.details = {"runs": runs, "cpu_s": used, "failed": failed,
                       "latency_ms": [round(v * 1000, 2) for v in latency_s],
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
