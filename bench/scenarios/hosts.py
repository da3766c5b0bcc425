"""Many hosts on one hub: the same hello-3 burst served by 1, 2 and 3 hosts.

For each host count: that many fresh hosts on one fresh task hub (every host polls every
control queue, as queue-triggered Functions do), one warm-up per host, then N hello-3 started
at once, an equal share through each host's `start_many` (as a load balancer spreads start
requests over the instances of a Function app); the bench polls the Instances table until none
is unfinished (a completion may be written by any host, so no single host's long-poll can
tell). This machine has 2 cores, so more hosts do not mean more throughput; what the scenario
shows is whether hosts fight over instances:

- storage requests per orchestration, summed over all hosts, without queue polls (an idle
  host's polls grow with time, not with work) and the polls on their own;
- ETag conflicts per 100 episodes and history loads per 1,000 episodes (every conflict costs
  a reload; a host taking over an instance another host served loads its history);
- the live-session hit rate (episodes whose history came from this host's own session);
- duplicate activity executions (executions counted by the hosts' runtimes minus 3 N).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from bench.context import LIVE_CHECK_SETTING, Bench
from bench.host import BenchHost, Counts, without_admin
from bench.observer import Observer
from bench.results import Section, Target, total

TIMEOUT_S = 900.0
ACTIVITIES = 3
POLLS = ("queue.receive",)


async def _burst(bench: Bench, hosts: list[BenchHost], observers: list[Observer],
                 n: int) -> dict[str, Any]:
    prefix = f"mh{uuid.uuid4().hex[:6]}-"
    before = [await h.counts(bench.session) for h in hosts]
    began = time.time()
    share = [n // len(hosts) + (i < n % len(hosts)) for i in range(len(hosts))]
    await asyncio.gather(*(o.start_many("hello_sequence", k, f"{prefix}{i}-")
                           for i, (o, k) in enumerate(zip(observers, share, strict=True))))
    done = await observers[0].wait_prefix(prefix, 0.25, TIMEOUT_S)
    await asyncio.sleep(1.0)  # let the last tails (message deletes) finish
    after = [await h.counts(bench.session) for h in hosts]
    spent = [a.minus(b) for a, b in zip(after, before, strict=True)]
    records = await observers[0].records(prefix)
    return {"wall_s": done - began, "spent": spent,
            "completed": sum(r.runtime_status.name == "Completed" for r in records)}


def _sum(counts: list[Counts], attr: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in getattr(c, attr).items():
            out[k] = out.get(k, 0) + v
    return out


async def run(bench: Bench) -> Section:
    n = bench.sizes.hosts_burst
    section = Section("hosts", f"Many hosts on one hub: {n} hello-3 at once")
    single: float | None = None
    for count in bench.sizes.hosts:
        hub = f"bmh{count}{uuid.uuid4().hex[:8]}"
        hosts = [BenchHost(bench.connection_string, hub, env={LIVE_CHECK_SETTING: "off"})
                 for _ in range(count)]
        observers: list[Observer] = []
        try:
            await asyncio.gather(*(asyncio.to_thread(h.wait_ready) for h in hosts))
            observers = [Observer(h, bench.connection_string, bench.session) for h in hosts]
            for observer in observers:
                # Any host may finish it: poll the Instances table (the row exists once
                # the start returned), not this host's long-poll of its own writes.
                iid = await observer.start("hello_sequence")
                await observer.wait_prefix(iid, 0.1, 60)
            await asyncio.sleep(0.5)
            got = await _burst(bench, hosts, observers, n)
        finally:
            await asyncio.gather(*(asyncio.to_thread(h.stop) for h in hosts))
            if observers:
                with contextlib.suppress(Exception):
                    await observers[0].hub.delete()
            for observer in observers:
                await observer.close()
        wire = without_admin(_sum(got["spent"], "wire"))
        runtime = _sum(got["spent"], "runtime")
        calls = total(wire, skip=POLLS) / n
        if count == 1:
            single = calls
        episodes = max(runtime.get("episodes", 0), 1)
        section.add(f"per_s_{count}", f"{count} host(s): orchestrations/s", n / got["wall_s"], "/s")
        section.add(f"calls_{count}", f"{count} host(s): requests per orchestration, no polls",
                    calls, "calls")
        section.add(f"polls_{count}", f"{count} host(s): queue polls per orchestration",
                    sum(wire.get(k, 0) for k in POLLS) / n, "calls")
        if single is not None and count > 1:
            section.add(f"calls_ratio_{count}",
                        f"{count} hosts: requests per orchestration / 1 host's",
                        calls / single, "x",
                        target=Target("<=", 1.2, applies=True) if count == 3 else None)
        section.add(f"conflicts_{count}", f"{count} host(s): ETag conflicts per 100 episodes",
                    100 * runtime.get("etag_conflicts", 0) / episodes, "",
                    target=Target("<=", 1.0, applies=True) if count == 3 else None)
        section.add(f"loads_{count}", f"{count} host(s): history loads per 1,000 episodes",
                    1000 * runtime.get("history_loads", 0) / episodes, "")
        section.add(f"session_hits_{count}", f"{count} host(s): live-session hit rate",
                    100 * runtime.get("session_hits", 0) / episodes, "%")
        section.add(f"duplicates_{count}", f"{count} host(s): duplicate activity executions",
                    runtime.get("activity_executions", 0) - ACTIVITIES * n, "")
        section.details[str(count)] = {"wire": wire, "runtime": runtime,
                                       "completed": got["completed"],
                                       "per_host_episodes": [c.runtime.get("episodes", 0)
                                                             for c in got["spent"]]}
        if got["completed"] != n:
            section.error = f"{count} hosts: {got['completed']} of {n} completed"
    return section
