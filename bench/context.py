"""Sizes of a run, and what every scenario shares: the private Azurite, an HTTP session, and
fresh hosts (one task hub each, so no scenario works on another's tables)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.azurite import PrivateAzurite
from bench.host import BenchHost, cpu_seconds
from bench.observer import Observer
from bench.results import Section

# The Functions host's app-setting override of host.json's verifyLiveSessions.
LIVE_CHECK_SETTING = "AzureFunctionsJobHost__extensions__durableTask__verifyLiveSessions"
LIVE_CHECK_RATE = "AzureFunctionsJobHost__extensions__durableTask__verifyLiveSessionsSampleRate"


@dataclass(frozen=True)
class Sizes:
    floor_calls: int = 200  # sequential calls of each kind
    floor_concurrent: int = 2000  # puts/inserts at 32 in flight
    latency_runs: int = 100
    throughput: int = 500
    fan_out: tuple[int, ...] = (1000, 5000, 10000)
    sequence: int = 300
    sequence_window: int = 50  # steps compared at the start and the end
    idle_settle_s: float = 120.0  # after start, before the idle window opens
    idle_window_s: float = 60.0
    memory_waiting: int = 1000
    entity_signals: int = 5000
    entity_ping_runs: int = 20
    entity_spread: tuple[int, int] = (1000, 10)
    livecheck_runs: int = 50  # hello-3 one at a time, per verifyLiveSessions mode
    livecheck_burst: int = 300  # hello-3 at once, per mode
    cloud_delays_ms: tuple[int, ...] = (0, 5, 10)  # added to every storage round trip
    cloud_runs: int = 40  # hello-3 one at a time, per delay
    cloud_burst: int = 300  # hello-3 at once, per delay
    hosts: tuple[int, ...] = (1, 2, 3)  # hosts serving one hub
    hosts_burst: int = 300  # hello-3 at once, per host count


FULL = Sizes()
QUICK = Sizes(
    floor_calls=20,
    floor_concurrent=200,
    latency_runs=10,
    throughput=30,
    fan_out=(100, 200, 400),
    sequence=40,
    sequence_window=10,
    idle_settle_s=0.0,
    idle_window_s=5.0,
    memory_waiting=50,
    entity_signals=200,
    entity_ping_runs=3,
    entity_spread=(20, 5),
    livecheck_runs=5,
    livecheck_burst=20,
    cloud_delays_ms=(0, 10),
    cloud_runs=5,
    cloud_burst=20,
    hosts=(1, 3),
    hosts_burst=20,
)


@dataclass
class Bench:
    azurite: PrivateAzurite
    session: aiohttp.ClientSession
    sizes: Sizes
    results_dir: Path
    stamp: str

    @property
    def connection_string(self) -> str:
        return self.azurite.connection_string

    def cpu(self, host: BenchHost) -> dict[str, float]:
        """CPU seconds used so far by the host, Azurite and this bench process."""
        azurite = self.azurite.pid
        return {"host": cpu_seconds(host.pid),
                "azurite": cpu_seconds(azurite) if azurite else 0.0,
                "bench": time.process_time()}

    def new_host(
        self, tag: str, env: dict[str, str] | None = None, via: str | None = None
    ) -> BenchHost:
        # Live sessions are not checked against replays, as deployed (the local host's own
        # default is to check them all); the livecheck scenario measures each setting.
        settings = {LIVE_CHECK_SETTING: "off", **(env or {})}
        return BenchHost(via or self.connection_string, f"b{tag}{uuid.uuid4().hex[:8]}",
                         env=settings)

    @contextlib.asynccontextmanager
    async def host(
        self, tag: str, env: dict[str, str] | None = None, via: str | None = None
    ) -> AsyncIterator[tuple[BenchHost, Observer]]:
        """A fresh host on a fresh task hub; the hub is deleted afterwards to keep Azurite
        (which holds everything in memory) as small as at the start. `via` is another
        connection string to the same account for the host (through the latency proxy);
        the bench itself always talks to Azurite directly."""
        host = self.new_host(tag, env, via)
        await asyncio.to_thread(host.wait_ready)
        observer = Observer(host, self.connection_string, self.session)
        try:
            yield host, observer
        finally:
            await asyncio.to_thread(host.stop)
            with contextlib.suppress(Exception):
                await observer.hub.delete()
            await observer.close()


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 3) for k in before}


def add_cpu(section: Section, used: dict[str, float], wall: float, units: int,
            what: str) -> None:
    """CPU per unit of work and the share of the wall time each process was busy; a process
    near 100 % of one core is the bottleneck."""
    for name, label in (("host", "host"), ("azurite", "Azurite")):
        section.add(f"{name}_cpu_ms", f"{label} CPU per {what}", used[name] / units * 1000,
                    "ms")
        section.add(f"{name}_busy_pct", f"{label} CPU busy (% of one core over the wall time)",
                    100 * used[name] / wall, "%")
    section.details["cpu_s"] = used


async def warm_up(observer: Observer) -> None:
    """One hello-3 first: the worker creates its clients and the hub on first use."""
    iid = await observer.start("hello_sequence")
    await observer.finished(iid, timeout=60)


async def hello3_one_at_a_time(observer: Observer, runs: int, timeout: float) -> list[float]:
    """`runs` hello-3, each started once the one before finished: seconds from the start
    request to its Completed row written, per run."""
    latency: list[float] = []
    for _ in range(runs):
        began = time.time()
        iid = await observer.start("hello_sequence")
        _, written = await observer.finished(iid, timeout)
        latency.append(written - began)
        await asyncio.sleep(0.02)
    return latency
