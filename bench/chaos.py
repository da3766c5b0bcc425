#!/usr/bin/env python3
"""Chaos run: several hosts serve one task hub while one of them is SIGKILLed every couple of
seconds and replaced by a fresh one.

Orchestrations of mixed kinds (chains, fan-out of 20, sub-orchestrations, retries that fail
twice, timers, external events raised from outside) run on `tests/apps/chaos_app`. When the
run is over it checks what DESIGN.md promises: every instance Completed with the right
output, no history holds an event twice, the control and work-item queues are empty, and
no message in a poison queue is one that another copy of it did not make up for (see
`chaos_report.unapplied_poison`). Activities write a row per execution to a side-effect table,
so it also reports how many of them ran more than once (at-least-once is allowed).

A host is killed only once it has been ready for `--kill-every` seconds itself, and not
while the previous kill's replacement is still starting: on a slow machine, where a host
takes longer than that to start, kills on the clock alone would keep most hosts starting
up at any moment and each replacement would die as soon as it came up; the run would
measure start-ups. On a fast machine hosts start well within the interval, and the
cadence is the clock's.

    python bench/chaos.py [--instances 300] [--hosts 3] [--kill-every 2] [--seed N]

`tests/e2e/test_chaos.py` runs a smaller configuration of the same driver. What it starts
is in `chaos_plan`, what it checks in `chaos_report`, its host processes in `chaos_hosts`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from azure.data.tables.aio import TableServiceClient  # noqa: E402

from bench.chaos_hosts import HostPool  # noqa: E402
from bench.chaos_plan import EVENT_VALUE, Instance, plan_instances  # noqa: E402
from bench.chaos_report import (  # noqa: E402
    ChaosReport,
    delete_poison_queues,
    describe_history,
    history_problems,
    poison_counts,
    unapplied_poison,
)
from durable.client import (  # noqa: E402
    DurableOrchestrationClient,
    DurableOrchestrationStatus,
    OrchestrationRuntimeStatus,
)
from durable.core.entities import EntityId  # noqa: E402
from durable.storage.settings import TaskHubSettings  # noqa: E402
from durable.storage.taskhub import TaskHub  # noqa: E402
from tests.conftest import DEV_CONNECTION_STRING  # noqa: E402

# How often the kill loop looks at the hosts (readiness, a kill that is due).
KILL_TICK = 0.25
# Unfinished instances and empty queues for this long: they are stuck, not slow.
STUCK_AFTER = 30.0
SHARED_COUNTER = EntityId("chaos_counter", "shared")
FINAL = {
    OrchestrationRuntimeStatus.Completed,
    OrchestrationRuntimeStatus.Failed,
    OrchestrationRuntimeStatus.Terminated,
    OrchestrationRuntimeStatus.Canceled,
}


@dataclass(frozen=True)
class ChaosConfig:
    instances: int = 300
    hosts: int = 3
    kill_every: float = 2.0
    # Starts are spread over this many seconds, so that kills hit work in every phase.
    start_over: float = 30.0
    # How long a host's received message stays hidden, renewed every third of it (the
    # Functions host: 10 minutes). Short, so that a killed host's messages come back soon;
    # not shorter, because on a starved machine (a busy Azurite answering in seconds) a
    # 5-second lease lost a hundred renewals a run, each one more copy of a message that
    # its host was still handling.
    lease_seconds: int = 10
    activity_max_seconds: float = 0.5
    # Kills stop after this long even if work remains; then the survivors finish it.
    max_chaos_seconds: float = 600.0
    timeout: float = 900.0
    seed: int | None = None
    connection_string: str = DEV_CONNECTION_STRING


class ChaosRun:
    def __init__(self, config: ChaosConfig, log: Any = print) -> None:
        self.config = config
        self.log = log
        self.rng = random.Random(config.seed)
        self.hub_name = "chaos" + uuid.uuid4().hex[:12]
        self.table_name = "fx" + self.hub_name
        self.settings = TaskHubSettings(
            hub_name=self.hub_name, connection_string=config.connection_string
        )
        self.hub = TaskHub(self.settings)
        self.client = DurableOrchestrationClient(self.settings, self.hub,
                                                 check_function_names=False)
        self.instances = plan_instances(config.instances, self.rng)
        self.report = ChaosReport(instances=len(self.instances))
        self.pool: HostPool | None = None

    def host_env(self) -> dict[str, str]:
        return {
            "TEST_HUB_NAME": self.hub_name,
            "SIDE_EFFECT_TABLE": self.table_name,
            "EMULATOR_QUEUE_LEASE_SECONDS": str(self.config.lease_seconds),
            "ACTIVITY_MAX_SECONDS": str(self.config.activity_max_seconds),
            "AzureWebJobsStorage": self.config.connection_string,
        }

    async def run(self) -> ChaosReport:
        began = time.monotonic()
        await self.hub.create_if_not_exists()
        self.pool = HostPool(self.config.hosts, self.host_env(), self.rng)
        try:
            await self.pool.wait_ready()
            self.log(f"{self.config.hosts} hosts ready on hub {self.hub_name}; "
                     f"starting {len(self.instances)} instances")
            finished = asyncio.Event()
            chaos = asyncio.create_task(self._kill_loop(finished))
            starter = asyncio.create_task(self._start_all())
            try:
                await self._wait_finished(starter, began + self.config.timeout)
            finally:
                finished.set()
                await chaos
                await starter
            await self._wait_queues_empty(deadline=time.monotonic() + 60)
            self.report.host_problems += self.pool.unexpected_exits()
            # A replacement started by the last kill may still be importing the app, before
            # its SIGTERM handler exists: what is checked is the stop of running hosts.
            await self.pool.settle()
            codes = self.pool.stop()
            if any(c != 0 for c in codes):
                self.report.host_problems.append(f"graceful stop exit codes {codes}")
            self.report.kills = len(self.pool.killed)
            self.report.hosts_started = self.pool.started
            await self._check()
        finally:
            if self.pool is not None:
                for host in self.pool.hosts:
                    if host.process.poll() is None:
                        host.process.kill()
            self.report.seconds = time.monotonic() - began
        return self.report

    async def _start_all(self) -> None:
        """Start each instance at its planned time (not one after the other, so a slow
        storage call does not stretch the schedule); raise the events from outside."""
        gap = self.config.start_over / max(1, len(self.instances))
        began = time.monotonic()
        running: list[asyncio.Task[None]] = []
        for i, inst in enumerate(self.instances):
            wait = began + i * gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            running.append(asyncio.create_task(self._start_one(inst)))
        await asyncio.gather(*running)

    async def _start_one(self, inst: Instance) -> None:
        await self.client.start_new(inst.name, inst.instance_id, inst.payload)
        # Every start also signals a counter shared by all: it must end exact.
        await self.client.signal_entity(SHARED_COUNTER, "add", 1)
        self.report.signals_sent += 1
        if inst.name != "event":
            return
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # raise it once it runs, or anyway after 3 s
            status = await self.client.get_status(inst.instance_id)
            if status.runtime_status is OrchestrationRuntimeStatus.Running:
                break
            await asyncio.sleep(0.25)
        await self.client.raise_event(inst.instance_id, "go", EVENT_VALUE)

    async def _kill_loop(self, finished: asyncio.Event) -> None:
        """A kill every `kill_every` seconds, of a host ready for at least as long; when
        none is yet, the kill waits for one (and the next is due `kill_every` after it)."""
        assert self.pool is not None
        every = self.config.kill_every
        stop_at = time.monotonic() + self.config.max_chaos_seconds
        due = time.monotonic() + every
        while not finished.is_set() and time.monotonic() < stop_at:
            try:
                wait = due - time.monotonic()
                await asyncio.wait_for(finished.wait(), wait if wait > 0 else KILL_TICK)
                return
            except TimeoutError:
                pass
            self.pool.note_ready()
            if time.monotonic() >= due and self.pool.kill_one(min_ready=every):
                due = time.monotonic() + every
                self.log(f"killed a host ({len(self.pool.killed)} so far)")

    async def _statuses(self) -> dict[str, DurableOrchestrationStatus]:
        found = await self.client.get_status_by()
        return {s.instance_id: s for s in found if s.instance_id}

    async def _wait_finished(self, starter: asyncio.Task[None], deadline: float) -> None:
        """Until every instance finished, or the deadline, or STUCK_AFTER seconds with
        nothing queued (hidden timers included) and no instance finishing: those that are
        left wait for a message that no longer exists, and waiting longer shows nothing."""
        wanted = {i.instance_id for i in self.instances}
        last = -1
        idle_since: float | None = None
        done: list[str] = []
        while True:
            if starter.done():
                starter.result()  # raises what the starter raised
                statuses = await self._statuses()
                done = [i for i in wanted if i in statuses
                        and statuses[i].runtime_status in FINAL]
                queued = sum((await self.hub.queues.approximate_counts()).values())
                if len(done) != last:
                    assert self.pool is not None
                    ready = sum(1 for h in self.pool.hosts if self.pool.is_ready(h))
                    alive = sum(1 for h in self.pool.hosts if h.process.poll() is None)
                    self.log(f"{len(done)}/{len(wanted)} instances finished; {ready} of "
                             f"{alive} hosts ready; {queued} messages queued")
                    last, idle_since = len(done), None
                if len(done) == len(wanted):
                    return
                if queued:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > STUCK_AFTER:
                    self.log(f"nothing queued for {STUCK_AFTER:.0f} s; unfinished: "
                             f"{sorted(wanted - set(done))[:10]}")
                    return
            if time.monotonic() > deadline:
                self.log(f"deadline reached; unfinished: {sorted(wanted - set(done))[:10]}")
                return
            await asyncio.sleep(1.0)

    async def _wait_queues_empty(self, deadline: float) -> None:
        while True:
            counts = await self.hub.queues.approximate_counts()
            self.report.queue_counts = {k: v for k, v in counts.items() if v}
            if not self.report.queue_counts or time.monotonic() > deadline:
                return
            await asyncio.sleep(1.0)

    async def _check(self) -> None:
        report = self.report
        statuses = await self._statuses()
        for inst in self.instances:
            status = statuses.get(inst.instance_id)
            state = status.runtime_status if status else None
            output = status.output if status else None
            if state is OrchestrationRuntimeStatus.Completed:
                report.completed += 1
            if state is not OrchestrationRuntimeStatus.Completed or (
                output != inst.expected_output()
            ):
                report.wrong.append(f"{inst.instance_id}: {state} {output!r}")
            for iid in inst.all_ids():
                loaded = await self.hub.history.load_history(iid)
                report.history_problems += history_problems(iid, loaded.events)
                if state is not OrchestrationRuntimeStatus.Completed:
                    report.unfinished_histories.append(describe_history(iid, loaded.events))
        report.poison_counts = await poison_counts(self.hub)
        report.poison_unapplied = await unapplied_poison(self.hub)
        report.shared_counter = await self._settled_counter(report.signals_sent)
        await self._count_executions()

    async def _settled_counter(self, expected: int, timeout: float = 60.0) -> int | None:
        """The shared counter once it has taken every signal (or what it holds at the end of
        `timeout`, for the report)."""
        deadline = time.monotonic() + timeout
        while True:
            got = await self.client.read_entity_state(SHARED_COUNTER)
            value = got.entity_state if got.entity_exists else None
            if value == expected or time.monotonic() > deadline:
                return value if isinstance(value, int) else None
            await asyncio.sleep(0.5)

    async def _count_executions(self) -> None:
        expected: dict[str, int] = {}
        for inst in self.instances:
            expected.update(inst.expected_executions())
        rows: Counter[str] = Counter()
        async with TableServiceClient.from_connection_string(self.config.connection_string) as svc:
            table = svc.get_table_client(self.table_name)
            async for row in table.list_entities(select=["PartitionKey"]):
                rows[str(row["PartitionKey"])] += 1
        self.report.activity_executions = sum(rows.values())
        self.report.expected_executions = sum(expected.values())
        self.report.duplicate_executions = sum(
            max(0, n - expected.get(key, 0)) for key, n in rows.items()
        )

    async def cleanup(self) -> None:
        try:
            await delete_poison_queues(self.hub)
            await self.hub.delete()
            async with TableServiceClient.from_connection_string(
                self.config.connection_string
            ) as svc:
                await svc.delete_table(self.table_name)
        finally:
            await self.hub.close()


async def run_chaos(config: ChaosConfig, log: Any = print) -> tuple[ChaosReport, list[str]]:
    """Run, check and clean up; the report and every host's output."""
    run = ChaosRun(config, log)
    try:
        report = await run.run()
        outputs = run.pool.outputs() if run.pool else []
        for output in outputs:
            report.failed_invocations.update(
                re.findall(r"^Exception: (\w+)", output, re.MULTILINE))
            # A failure the worker counted in the message and sent again (not an
            # invocation's failure, but the same kind of fact).
            report.failed_invocations.update(
                re.findall(r" failed: (\w+): .*; sent again as a fresh message", output))
            report.requeued += output.count("sent again as a fresh message")
    finally:
        await run.cleanup()
    return report, outputs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--kill-every", type=float, default=2.0, metavar="SECONDS")
    parser.add_argument("--start-over", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    config = ChaosConfig(instances=args.instances, hosts=args.hosts, kill_every=args.kill_every,
                         start_over=args.start_over, seed=args.seed)
    report, _ = asyncio.run(run_chaos(config))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
