"""6c. An idle host's storage requests per hour.

A host on its own task hub that is given no work at all. Its queue listeners poll the
control and work-item queues, backing off from 100 ms to host.json's maxPollingInterval
(the Functions default of 1 minute in the bench app). The count is taken over a window
that opens `idle_settle_s` after the host is ready (so that the back-off has reached its
ceiling) and lasts `idle_window_s`, then scaled to an hour. It runs alongside the other
scenarios: the counts are this process's own, and it needs almost no CPU.
"""

from __future__ import annotations

import asyncio
import time

from bench.context import Bench
from bench.host import BenchHost, Counts, without_admin
from bench.results import Section, Target, total


class IdleProbe:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.host: BenchHost | None = None
        self._ready_at = 0.0
        self._task: asyncio.Task[tuple[Counts, Counts]] | None = None

    async def start(self) -> None:
        self.host = self.bench.new_host("idle")
        await asyncio.to_thread(self.host.wait_ready)
        self._ready_at = time.monotonic()
        self._task = asyncio.create_task(self._measure())

    async def _measure(self) -> tuple[Counts, Counts]:
        assert self.host is not None
        sizes = self.bench.sizes
        await asyncio.sleep(max(0.0, self._ready_at + sizes.idle_settle_s - time.monotonic()))
        first = await self.host.counts(self.bench.session)
        await asyncio.sleep(sizes.idle_window_s)
        return first, await self.host.counts(self.bench.session)

    async def finish(self) -> Section:
        section = Section("idle", "Idle host: storage requests per hour")
        assert self.host is not None and self._task is not None
        try:
            first, second = await self._task
        finally:
            await asyncio.to_thread(self.host.stop)
        spent = without_admin(second.minus(first).wire)
        window = second.at - first.at
        sizes = self.bench.sizes
        applies = sizes.idle_settle_s >= 100 and sizes.idle_window_s >= 60
        section.add("calls_per_hour", f"requests/hour (x{3600 / window:.0f} of a {window:.0f} s "
                    f"window from {sizes.idle_settle_s:.0f} s after start)",
                    total(spent) * 3600 / window, "calls", target=Target("<=", 600, applies))
        section.details = {"window_s": window, "settle_s": sizes.idle_settle_s,
                           "wire": spent}
        return section
