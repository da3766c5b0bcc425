#!/usr/bin/env python3
"""Storage transactions one orchestration costs, counted on the wire.

Runs orchestrations on a fresh task hub with an in-process worker and prints, per
orchestration, the storage requests by kind (every HTTP request the SDKs sent, retries
included). Queue polling is shown apart: its cost depends on how busy the queues are, not on
the orchestration. It starts a private Azurite on free ports (unless --connection-string is
given). The full suite, which counts through a real host, is bench/run.py.

    python bench/transactions.py [--runs N] [--connection-string CS]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.azurite import PrivateAzurite  # noqa: E402
from durable.app.root import process  # noqa: E402
from durable.client import DurableOrchestrationClient  # noqa: E402
from durable.runtime.worker import DurableWorker  # noqa: E402
from durable.storage.settings import TaskHubSettings  # noqa: E402
from durable.storage.taskhub import TaskHub  # noqa: E402
from tests.integration import orchestrations  # noqa: E402,F401
from tests.support.hubs import wait_for_status  # noqa: E402
from tests.support.pump import QueuePump  # noqa: E402

CASES = [("hello_sequence", None, "3 activities in sequence"), ("fan_out", 20, "20 in parallel")]


async def measure(name: str, payload: object, runs: int, connection: str) -> dict[str, float]:
    settings = TaskHubSettings(hub_name="bench" + uuid.uuid4().hex[:10],
                               connection_string=connection)
    hub = TaskHub(settings)
    await hub.create_if_not_exists()
    worker = DurableWorker(settings, hub, process.registry)
    client = DurableOrchestrationClient(settings, hub, functions=process.registry)
    # Status polling by this script is not part of the orchestration's cost: its own clients.
    poll_hub = TaskHub(settings)
    poller = DurableOrchestrationClient(settings, poll_hub)
    try:
        async with QueuePump(worker):
            hub.reset_request_counts()
            started = time.perf_counter()
            for _ in range(runs):
                iid = await client.start_new(name, client_input=payload)
                await wait_for_status(poller, iid)
            elapsed = time.perf_counter() - started
            counts = hub.request_counts
    finally:
        await hub.delete()
        await hub.close()
        await poll_hub.close()
    per = {k: v / runs for k, v in counts.items() if not k.endswith(".admin")}
    per["_seconds"] = elapsed / runs
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--connection-string", help="an Azurite/storage to use instead")
    args = parser.parse_args()
    azurite = None if args.connection_string else PrivateAzurite().start()
    connection = args.connection_string or azurite.connection_string  # type: ignore[union-attr]
    try:
        report(args.runs, connection)
    finally:
        if azurite is not None:
            azurite.stop()


def report(runs: int, connection: str) -> None:
    print(f"Storage requests per orchestration (mean of {runs} runs, Azurite)\n")
    for name, payload, what in CASES:
        per = asyncio.run(measure(name, payload, runs, connection))
        polling = per.pop("queue.receive", 0.0)
        seconds = per.pop("_seconds")
        total = sum(per.values())
        print(f"{name} ({what}): {total:.1f} requests + {polling:.1f} queue polls, "
              f"{seconds * 1000:.0f} ms end to end")
        print(f"  {'kind':<16}{'requests':>10}")
        for kind, n in sorted(per.items()):
            print(f"  {kind:<16}{n:>10.1f}")
        print()


if __name__ == "__main__":
    main()
