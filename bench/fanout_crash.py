#!/usr/bin/env python3
"""A host killed during a full-size fan-out loses nothing.

    python bench/fanout_crash.py [--n 5000] [--points after_commit:4,in_activity:2500]

For each crash point, one orchestration fans out N activities through the default window
(1,000 queued work items), its host is SIGKILLed at that point (`DURABLE_TEST_CRASH_AT`), a
fresh host finishes the work from history alone, and the run prints what it found: the
status and output (must be Completed and N), completions recorded twice in history (must be
none), how much was done before the kill, and how long the survivor took. The CI-sized
version is `tests/e2e/test_durable_crash.py::test_killed_host_during_a_large_fan_out_loses_nothing`
(600 activities, a window of 100). Needs Azurite on 10000-10002, as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import DEV_CONNECTION_STRING  # noqa: E402
from tests.support.durable_hosts import (  # noqa: E402
    duplicate_completions,
    durable_host,
    hub_for,
    start_direct,
    wait_all_finished,
)


async def one_point(n: int, point: str, timeout: float) -> dict[str, object]:
    hub_name = "fanoutcrash" + uuid.uuid4().hex[:10]
    hub = hub_for(hub_name, DEV_CONNECTION_STRING)
    try:
        iid = await start_direct(hub, "fan_out", {"prefix": "f-", "n": n})
        doomed = durable_host(hub_name, DURABLE_TEST_CRASH_AT=point)
        try:
            code = await asyncio.to_thread(doomed.process.wait, timeout)
        finally:
            doomed.stop()
        events = (await hub.history.load_history(iid)).events
        done_before = sum(e.event_type.name == "TaskCompleted" for e in events)
        survivor = durable_host(hub_name)
        began = time.monotonic()
        try:
            await asyncio.to_thread(survivor.wait_ready)
            finished = await wait_all_finished(hub, [iid], timeout=timeout)
        finally:
            survivor.stop()
        rec = finished[iid]
        events = (await hub.history.load_history(iid)).events
        return {
            "point": point,
            "exit": code,
            "done_before_kill": done_before,
            "status": rec.runtime_status.name,
            "output": json.loads(rec.output or "null"),
            "duplicate_completions": len(duplicate_completions(events)),
            "survivor_s": round(time.monotonic() - began, 1),
        }
    finally:
        await hub.delete()
        await hub.close()


async def run(n: int, points: list[str], timeout: float) -> bool:
    ok = True
    print(f"{'crash point':<20} {'exit':>5} {'done at kill':>12} {'status':<10} {'output':>7} "
          f"{'dup. completions':>16} {'survivor':>9}")
    for point in points:
        r = await one_point(n, point, timeout)
        good = (r["exit"] == -9 and r["status"] == "Completed" and r["output"] == n
                and r["duplicate_completions"] == 0)
        ok &= good
        print(f"{point:<20} {r['exit']!s:>5} {r['done_before_kill']!s:>12} {r['status']!s:<10} "
              f"{r['output']!s:>7} {r['duplicate_completions']!s:>16} {r['survivor_s']!s:>8}s"
              f"{'' if good else '  FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--points", default="after_commit:4,in_activity:2500")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    ok = asyncio.run(run(args.n, args.points.split(","), args.timeout))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
