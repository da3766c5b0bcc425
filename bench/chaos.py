#!/usr/bin/env python3
"""Chaos run: several hosts serve one task hub while one of them is SIGKILLed every couple of
seconds and replaced by a fresh one.

Orchestrations of mixed kinds (chains, fan-out of 20, sub-orchestrations, retries that fail
twice, timers, external events raised from outside) run on `tests/apps/chaos_app`. When the
run is over it checks what DESIGN.md promises: every instance Completed with the right
output, no history holds an event twice, the control and work-item queues are empty, and
nothing sits in a poison queue. Activities write a row per execution to a side-effect table,
so it also reports how many of them ran more than once (at-least-once is allowed).

A host is killed only once it has been ready for `--kill-every` seconds itself, and not
while the previous kill's replacement is still starting: on a slow machine, where a host
takes longer than that to start, kills on the clock alone would keep most hosts starting
up at any moment and each replacement would die as soon as it came up; the run would
measure start-ups. On a fast machine hosts start well within the interval, and the
cadence is the clock's.

    python bench/chaos.py [--instances 300] [--hosts 3] [--kill-every 2] [--seed N]

`tests/e2e/test_chaos.py` runs a smaller configuration of the same driver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from azure.core.exceptions import ResourceNotFoundError  # noqa: E402
from azure.data.tables.aio import TableServiceClient  # noqa: E402

from durable.client import (  # noqa: E402
    DurableOrchestrationClient,  # noqa: E402
    DurableOrchestrationStatus,
    OrchestrationRuntimeStatus,
)
from durable.core.entities import EntityId  # noqa: E402
from durable.core.history import EventType, HistoryEvent  # noqa: E402
from durable.storage.settings import TaskHubSettings  # noqa: E402
from durable.storage.taskhub import TaskHub  # noqa: E402
from tests.conftest import DEV_CONNECTION_STRING  # noqa: E402
from tests.e2e.conftest import READY, HostProcess  # noqa: E402

APP = "chaos_app"
# (orchestrator, share of the instances, input)
MIX: tuple[tuple[str, float, Any], ...] = (
    ("chain", 0.20, None),
    ("fan", 0.10, 20),
    ("parent", 0.15, None),
    ("retrying", 0.15, None),
    ("timer", 0.15, 2),
    ("event", 0.15, None),
    ("counting", 0.10, 5),
)
EVENT_VALUE = "go"
# How often the kill loop looks at the hosts (readiness, a kill that is due).
KILL_TICK = 0.25
# Unfinished instances and empty queues for this long: they are stuck, not slow.
STUCK_AFTER = 30.0
SHARED_COUNTER = EntityId("chaos_counter", "shared")
# An invocation may fail on these and be retried (a connection reset under load); any other
# failure is a bug.
TRANSIENT_FAILURES = {"StorageUnavailableError"}
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


@dataclass(frozen=True)
class Instance:
    instance_id: str
    name: str
    payload: Any

    def expected_output(self) -> Any:
        return expected_output(self.name, self.instance_id, self.payload)

    def expected_executions(self) -> dict[str, int]:
        """Activity key -> executions without duplicates (flaky fails twice first)."""
        iid = self.instance_id
        if self.name == "chain":
            return {f"{iid}:{i}": 1 for i in range(3)}
        if self.name == "fan":
            return {f"{iid}:{i}": 1 for i in range(int(self.payload))}
        if self.name == "parent":
            return {
                **Instance(f"{iid}:0", "chain", None).expected_executions(),
                **Instance(f"{iid}:1", "fan", 5).expected_executions(),
            }
        if self.name == "retrying":
            return {f"{iid}:f": 3}
        if self.name == "timer":
            return {f"{iid}:0": 1, f"{iid}:1": 1}
        if self.name == "counting":
            return {}
        return {f"{iid}:{EVENT_VALUE}": 1}

    def all_ids(self) -> list[str]:
        """This instance and its sub-orchestrations."""
        if self.name == "parent":
            return [self.instance_id, f"{self.instance_id}:0", f"{self.instance_id}:1"]
        return [self.instance_id]


def expected_output(name: str, iid: str, payload: Any) -> Any:
    if name == "chain":
        return [f"{iid}:{i}!" for i in range(3)]
    if name == "fan":
        return int(payload)
    if name == "parent":
        return [expected_output("chain", f"{iid}:0", None), 5]
    if name == "retrying":
        return f"{iid}:f ok"
    if name == "timer":
        return [f"{iid}:0!", f"{iid}:1!"]
    if name == "event":
        return f"{iid}:{EVENT_VALUE}!"
    if name == "counting":
        return int(payload) + 1
    raise ValueError(f"unknown orchestrator {name!r}")


def plan_instances(count: int, rng: random.Random) -> list[Instance]:
    """`count` instances in MIX's proportions (largest remainders), shuffled."""
    quotas = [(count * share, name, payload) for name, share, payload in MIX]
    numbers = {name: int(q) for q, name, _ in quotas}
    by_remainder = sorted(quotas, key=lambda q: q[0] - int(q[0]), reverse=True)
    for _, name, _ in by_remainder[: count - sum(numbers.values())]:
        numbers[name] += 1
    names = [(name, payload) for _, name, payload in quotas for _ in range(numbers[name])]
    rng.shuffle(names)
    return [Instance(f"{name}-{i:04d}", name, payload) for i, (name, payload) in enumerate(names)]


@dataclass
class ChaosReport:
    instances: int = 0
    completed: int = 0
    kills: int = 0
    hosts_started: int = 0
    seconds: float = 0.0
    activity_executions: int = 0
    expected_executions: int = 0
    duplicate_executions: int = 0
    wrong: list[str] = field(default_factory=list)
    history_problems: list[str] = field(default_factory=list)
    queue_counts: dict[str, int] = field(default_factory=dict)
    poison_counts: dict[str, int] = field(default_factory=dict)
    host_problems: list[str] = field(default_factory=list)
    # Invocations that failed (and were retried), by exception type; messages sent again.
    failed_invocations: Counter[str] = field(default_factory=Counter)
    requeued: int = 0
    # Client signals to one shared counter entity, and what it ended at.
    signals_sent: int = 0
    shared_counter: int | None = None
    # For each instance that did not complete: its history, event by event, to tell what it
    # waits for.
    unfinished_histories: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.completed == self.instances
            and not self.wrong
            and not self.history_problems
            and not any(self.queue_counts.values())
            and not any(self.poison_counts.values())
            and not self.host_problems
            and set(self.failed_invocations) <= TRANSIENT_FAILURES
            and self.shared_counter == self.signals_sent
        )

    def lines(self) -> list[str]:
        return [
            f"instances completed        {self.completed}/{self.instances}",
            f"hosts killed (SIGKILL)     {self.kills} ({self.hosts_started} started)",
            f"run time                   {self.seconds:.1f} s",
            f"activity executions        {self.activity_executions} "
            f"(expected {self.expected_executions})",
            f"duplicate executions       {self.duplicate_executions}",
            f"wrong outputs              {len(self.wrong)} {self.wrong[:3]}",
            f"history problems           {len(self.history_problems)} "
            f"{self.history_problems[:3]}",
            f"messages left in queues    {sum(self.queue_counts.values())}",
            f"poison messages            {sum(self.poison_counts.values())}",
            f"host problems              {self.host_problems[:3]}",
            f"failed invocations         {sum(self.failed_invocations.values())} "
            f"{dict(self.failed_invocations)}",
            f"messages sent again        {self.requeued}",
            f"shared counter             {self.shared_counter} "
            f"(client signals sent {self.signals_sent})",
            *self.unfinished_histories[:5],
        ]


def history_problems(instance_id: str, events: Sequence[HistoryEvent]) -> list[str]:
    """Anything in one execution's history that was applied twice."""
    problems: list[str] = []
    ids = Counter(e.message_id for e in events if e.message_id)
    problems += [f"{instance_id}: message {m} applied {n} times" for m, n in ids.items() if n > 1]
    completions = (
        EventType.TaskCompleted,
        EventType.TaskFailed,
        EventType.SubOrchestrationInstanceCompleted,
        EventType.SubOrchestrationInstanceFailed,
    )
    done = Counter(e.task_scheduled_id for e in events if e.event_type in completions)
    done += Counter(e.timer_id for e in events if e.event_type is EventType.TimerFired)
    problems += [f"{instance_id}: task {t} completed {n} times" for t, n in done.items() if n > 1]
    actions = (
        EventType.TaskScheduled,
        EventType.TimerCreated,
        EventType.SubOrchestrationInstanceCreated,
    )
    scheduled = Counter(e.event_id for e in events if e.event_type in actions)
    problems += [f"{instance_id}: action {a} recorded {n} times"
                 for a, n in scheduled.items() if n > 1]
    for kind in (EventType.ExecutionStarted, EventType.ExecutionCompleted):
        n = sum(1 for e in events if e.event_type is kind)
        if n > 1:
            problems.append(f"{instance_id}: {kind.name} {n} times")
    return problems


def describe_history(instance_id: str, events: Sequence[HistoryEvent]) -> str:
    """One line per event of an unfinished instance: what it did and what it waits for."""
    lines = [f"history of {instance_id}:"]
    for e in events:
        ids = [f"{name}={value}" for name, value in (
            ("id", e.event_id), ("task", e.task_scheduled_id), ("timer", e.timer_id),
            ("fire_at", e.fire_at), ("msg", e.message_id)) if value not in (None, -1)]
        lines.append(f"  {e.timestamp:%H:%M:%S.%f} {e.event_type.name} {' '.join(ids)}")
    return "\n".join(lines)


async def poison_counts(hub: TaskHub) -> dict[str, int]:
    """Messages in the poison queues of the hub's control and work-item queues."""
    queues = [*hub.queues.control_queue_names, hub.queues.work_item_queue_name]
    counts: dict[str, int] = {}
    for name in queues:
        client = hub.queues.client(f"{name}-poison")
        try:
            props = await client.get_queue_properties()
        except ResourceNotFoundError:
            continue
        counts[client.queue_name] = int(props.approximate_message_count or 0)
    return counts


async def delete_poison_queues(hub: TaskHub) -> None:
    for name in [*hub.queues.control_queue_names, hub.queues.work_item_queue_name]:
        with contextlib.suppress(ResourceNotFoundError):
            await hub.queues.client(f"{name}-poison").delete_queue()


class HostPool:
    """`size` host processes on one hub; `kill_one` SIGKILLs a ready one and starts another."""

    def __init__(self, size: int, env: dict[str, str], rng: random.Random) -> None:
        self._env = env
        self._rng = rng
        # --no-reload: what is killed is the host itself (a reloader's child would die with
        # it, but would also make every replacement slower to start).
        self.hosts = [HostProcess(APP, env, "--no-reload") for _ in range(size)]
        self.started = size
        self.killed: list[HostProcess] = []
        self._ready_since: dict[HostProcess, float] = {}

    def is_ready(self, host: HostProcess) -> bool:
        """Alive, and has said it is ready. Its output is searched only until then: a
        working host writes thousands of lines, and scanning them all on every look
        would make this driver the machine's busiest process."""
        if host.process.poll() is not None:
            return False
        if host in self._ready_since:
            return True
        if any(READY.search(x) for x in list(host.lines)):
            self._ready_since[host] = time.monotonic()
            return True
        return False

    async def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.is_ready(h) for h in self.hosts):
            dead = [h for h in self.hosts if h.process.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError("hosts did not start:\n" + "\n".join(
                    h.output[-3000:] for h in dead or self.hosts))
            await asyncio.sleep(0.2)

    async def settle(self, timeout: float = 120.0) -> None:
        """Wait until every host still alive is ready (dead ones are reported elsewhere)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(
            self.is_ready(h) for h in self.hosts if h.process.poll() is None
        ):
            await asyncio.sleep(0.2)

    def note_ready(self) -> None:
        """Record when each host was first seen ready."""
        for host in self.hosts:
            self.is_ready(host)

    def kill_one(self, min_ready: float = 0.0) -> bool:
        """SIGKILL a host that has been ready for at least `min_ready` seconds, and only
        when no replacement is still starting, so that each host does some work before it
        dies however slowly hosts start (on a slow machine most hosts would otherwise be
        starting up at any moment, each replacement killed as soon as it is ready, and
        the one or two working hosts would share the CPU with the start-ups)."""
        self.note_ready()
        now = time.monotonic()
        if any(h not in self._ready_since for h in self.hosts if h.process.poll() is None):
            return False  # the last replacement is still starting
        ready = [h for h in self.hosts if h in self._ready_since and self.is_ready(h)
                 and now - self._ready_since[h] >= min_ready]
        if not ready:
            return False
        victim = self._rng.choice(ready)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        self._ready_since.pop(victim, None)
        self.hosts.remove(victim)
        self.killed.append(victim)
        self.hosts.append(HostProcess(APP, self._env, "--no-reload"))
        self.started += 1
        return True

    def unexpected_exits(self) -> list[str]:
        """Hosts that died without being killed, each with the end of what it printed."""
        return [f"host on port {h.port} exited by itself ({h.process.returncode}); its last "
                "lines:\n" + "\n".join(list(h.lines)[-15:])
                for h in self.hosts if h.process.poll() is not None]

    def stop(self) -> list[int]:
        codes = []
        for host in self.hosts:
            try:
                codes.append(host.stop())
            except AssertionError:
                codes.append(-1)
        return codes

    def outputs(self) -> list[str]:
        return [h.output for h in [*self.killed, *self.hosts]]


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
