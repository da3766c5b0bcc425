"""Cloud latency: hello-3 with a delay added to every storage round trip (0, 5, 10 ms).

A `bench.latency_proxy` process in front of the private Azurite delays every request by the
chosen time; the host talks to storage through it, the bench directly. For each delay: a
fresh host, hello-3 one at a time (as the latency scenario) and a burst started at once (as
the throughput scenario). The growth of the p50 with the delay, divided by the delay, is the
number of storage round trips one after another on the critical path of one hello-3, from the
start request to the Completed row.
"""

from __future__ import annotations

import asyncio

from bench.context import Bench, cpu_used, hello3_one_at_a_time, warm_up
from bench.latency_proxy import LatencyProxy
from bench.results import Section, Target, percentile
from bench.scenarios.throughput import burst

TIMEOUT_S = 120.0


async def run(bench: Bench) -> Section:
    sizes = bench.sizes
    section = Section("cloud", "Cloud latency: a delay on every storage round trip")
    p50s: dict[int, float] = {}
    for delay in sizes.cloud_delays_ms:
        proxy = LatencyProxy(bench.azurite.ports, delay).start() if delay else None
        via = bench.azurite.connection_string_via(proxy.port_for) if proxy else None
        try:
            async with bench.host(f"cl{delay}", via=via) as (host, observer):
                await warm_up(observer)
                await asyncio.sleep(0.5)
                cpu = bench.cpu(host)
                latency = await hello3_one_at_a_time(observer, sizes.cloud_runs, TIMEOUT_S)
                used = cpu_used(cpu, bench.cpu(host))
                got = await burst(bench, host, observer, sizes.cloud_burst)
        finally:
            if proxy is not None:
                proxy.stop()
        p50s[delay] = percentile(latency, 50)
        target = Target("<=", 120, applies=True) if delay == 10 else None
        section.add(f"p50_ms_{delay}", f"+{delay} ms: hello-3 p50, one at a time",
                    p50s[delay] * 1000, "ms", target=target)
        section.add(f"p95_ms_{delay}", f"+{delay} ms: hello-3 p95",
                    percentile(latency, 95) * 1000, "ms")
        section.add(f"per_s_{delay}",
                    f"+{delay} ms: orchestrations/s, {sizes.cloud_burst} at once",
                    sizes.cloud_burst / got["wall_s"], "/s")
        section.add(f"host_cpu_ms_{delay}", f"+{delay} ms: host CPU per hello-3",
                    used["host"] / sizes.cloud_runs * 1000, "ms")
        section.details[str(delay)] = {"latency_ms": [round(v * 1000, 2) for v in latency],
                                       "completed": got["completed"]}
    base = p50s.get(0)
    for delay, p50 in p50s.items():
        if delay and base is not None:
            section.add(f"round_trips_{delay}",
                        f"round trips on the critical path (from +{delay} ms)",
                        (p50 - base) * 1000 / delay, "")
    return section
