"""Entities: signals per second into one entity, a call_entity round trip against a
call_activity round trip measured in the same run, and many entities signalled at once.

Completion is seen without polling storage: each counter starts a marker orchestration when
it has taken every signal, and the bench long-polls for that instance's terminal row.
- signals/s into one entity = signals / (the marker's row written - the first signal sent);
  the signals are sent from inside the host (64 in flight), so the sending counts too.
- round trips: `entity_ping(n)` makes n sequential call_entity, `activity_ping(n)` n
  sequential call_activity, alternately; each run's wall time / n, p50 over the runs.
- spread: `each` signals to each of `entities` counters, all at once; wall time until every
  counter's marker finished.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import aiohttp

from bench.context import Bench, add_cpu, cpu_used, warm_up
from bench.observer import Observer
from bench.results import Section, Target, percentile

TIMEOUT_S = 600.0
PING_STEPS = 10


async def signal_many(observer: Observer, entities: int, each: int, tag: str) -> dict[str, Any]:
    body = {"entities": entities, "each": each, "prefix": f"{tag}-e", "marker": f"{tag}-m"}
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with observer.session.post(observer.host.url("api/_bench/signal_many"), json=body,
                                     timeout=timeout) as resp:
        text = await resp.text()
        if resp.status != 202:
            raise RuntimeError(f"signalling failed: {resp.status} {text}")
    return await observer.finished_many(f"{tag}-m", entities, TIMEOUT_S)


async def run(bench: Bench) -> list[Section]:
    sizes = bench.sizes
    section = Section("entities", "Entities: signals into one entity, call round trips, spread")
    async with bench.host("ent") as (host, observer):
        await warm_up(observer)
        cpu = bench.cpu(host)
        began = time.time()
        done = await signal_many(observer, 1, sizes.entity_signals, f"one{uuid.uuid4().hex[:6]}")
        wall = float(done["last_at"]) - began
        used = cpu_used(cpu, bench.cpu(host))
        section.add("signals_per_s", f"signals/s into one entity ({sizes.entity_signals})",
                    sizes.entity_signals / wall, "/s", target=Target(">=", 500))
        add_cpu(section, used, wall, sizes.entity_signals, "signal")
        entity_ms, activity_ms = [], []
        for _ in range(sizes.entity_ping_runs):
            for name, sink in (("entity_ping", entity_ms), ("activity_ping", activity_ms)):
                t0 = time.time()
                iid = await observer.start(name, PING_STEPS)
                _, written = await observer.finished(iid, TIMEOUT_S)
                sink.append((written - t0) / PING_STEPS * 1000)
        e50, a50 = percentile(entity_ms, 50), percentile(activity_ms, 50)
        section.add("call_entity_ms", "call_entity round trip, p50", e50, "ms")
        section.add("call_activity_ms", "call_activity round trip, p50 (same run)", a50, "ms")
        section.add("call_ratio", "call_entity / call_activity round trip", e50 / a50, "x",
                    target=Target("<=", 1.2))
        n, each = sizes.entity_spread
        t0 = time.time()
        spread = await signal_many(observer, n, each, f"sp{uuid.uuid4().hex[:6]}")
        section.add("spread_s", f"{n} entities signalled {each} times each, wall time",
                    float(spread["last_at"]) - t0, "s")
        section.details = {"entity_ms": entity_ms, "activity_ms": activity_ms}
    return [section]
