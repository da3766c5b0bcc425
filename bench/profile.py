"""Where a host's time goes during a hello-3 throughput burst, sampled with py-spy.

py-spy attaches to a fresh bench host (`py-spy record --pid`, RATE samples/s, all threads,
active samples only: a thread blocked in epoll or on a lock is not sampled), the burst of
`throughput.burst` runs, and py-spy is stopped with SIGINT. The collapsed stacks are kept
next to the JSON results (`<timestamp>-profile.txt`, loadable in speedscope or
flamegraph.pl). The summary counts, among the event loop thread's active samples:

- self time by area: the file of the innermost frame, grouped (our packages by subpackage,
  libraries by distribution, the standard library by module);
- inclusive time by function: the share of samples with the function anywhere on the stack
  (each counted once per sample), for our code (durable/, emulator/, the app) and overall;
- attributed time: each sample charged to the innermost frame of our code on its stack, so
  that a library call (the SDKs, aiohttp, json) counts for the function of ours that made it.

Samples whose innermost frame is epoll (`selectors`) or an idle pool thread's wait are
waiting, not working; py-spy sometimes sees them as active, and they are left out.

The event loop's busy share is its active samples / (RATE x seconds sampled); near 100 %
means the host is CPU-bound on one core, whatever Azurite does.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.context import Bench, warm_up
from bench.scenarios import throughput

RATE = 100
TOP = 20
ROOT = Path(__file__).resolve().parent.parent
MAIN_THREAD = "MainThread"


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


async def run(bench: Bench) -> dict[str, Any]:
    exe = py_spy()
    if exe is None:
        return {"error": "py-spy is not installed (pip install py-spy, or the dev extra)"}
    n = bench.sizes.throughput
    out = bench.results_dir / f"{bench.stamp}-profile.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    print("[profile] running...", file=sys.stderr, flush=True)
    async with bench.host("prof") as (host, observer):
        await warm_up(observer)
        command = [exe, "record", "--pid", str(host.pid), "--rate", str(RATE), "--format",
                   "raw", "--threads", "--full-filenames", "-o", str(out)]
        spy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        began = time.monotonic()
        await asyncio.sleep(0.5)
        got = await throughput.burst(bench, host, observer, n)
        sampled = time.monotonic() - began
        spy.send_signal(signal.SIGINT)
        log, _ = await asyncio.to_thread(spy.communicate, None, 60)
    if not out.exists():
        return {"error": f"py-spy wrote no profile: {log.strip()[-500:]}"}
    summary = summarize(out, sampled)
    summary["burst"] = {"n": n, "wall_s": got["wall_s"],
                        "orchestrations_per_s": n / got["wall_s"]}
    return summary


def short(path: str) -> str:
    """A readable file name: relative to the repository, site-packages or the stdlib."""
    for marker in ("/site-packages/", "/lib/python3."):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest.split("/", 1)[1] if marker.startswith("/lib") and "/" in rest else rest
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return path


def area(path: str) -> str:
    """The group a file belongs to, for self time."""
    name = short(path)
    parts = name.split("/")
    if parts[0] == "durable":
        return "/".join(parts[:2]) if len(parts) > 2 else "durable"
    if parts[0] == "emulator":
        return "emulator"
    if parts[0] == "tests":
        return "app (bench_app)"
    if parts[0] == "azure":
        return "azure." + ".".join(parts[1:3] if parts[1] in ("storage", "data") else parts[1:2])
    if name.startswith("<frozen"):
        return "python (frozen stdlib modules: collections.abc, os, ...)"
    if "/" in name:
        return parts[0]
    return name.removesuffix(".py")


def _frame(frame: str) -> tuple[str, str]:
    """`function (path:line)` -> (function, path)."""
    name, _, where = frame.rpartition(" (")
    return name, where.rstrip(")").rsplit(":", 1)[0]


# Frames that only pass a call through (the bench's request counter, the emulator's send
# wake-up, the storage error translation) or that every stack has (the host's entry): time
# is attributed past them, to the caller that meant the work.
PASS_THROUGH = (
    "tests/apps/bench_app/bench_probe.py:",
    "emulator/wakeup.py:WakeRegistry.install.<locals>.send_async",
    "durable/storage/transport.py:storage_call.<locals>.wrapper",
    "durable/storage/transport.py:CountingTransport.send",
    "emulator/__main__.py:", "emulator/cli.py:", "emulator/host.py:run",
)
LOOP = "(asyncio loop and I/O callbacks, no task of ours on the stack)"


def _waiting(function: str, file: str) -> bool:
    """Blocked, though py-spy saw the thread running: the loop in epoll, an idle pool thread
    in its queue's get."""
    return file == "selectors.py" or (file == "concurrent/futures/thread.py"
                                      and function == "_worker")


def _is_ours(key: str) -> bool:
    return key.startswith(("durable/", "emulator/", "tests/"))


def summarize(path: Path, seconds: float) -> dict[str, Any]:
    threads: Counter[str] = Counter()
    self_area: Counter[str] = Counter()
    self_fn: Counter[str] = Counter()
    attributed: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    waiting = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        head, *frames = stack.split(";")
        thread = head.split(": ", 1)[-1]
        if not frames:
            continue
        fn, file = _frame(frames[-1])
        if _waiting(fn, short(file)):
            waiting += n if thread == MAIN_THREAD else 0
            continue
        threads[thread] += n
        if thread != MAIN_THREAD:
            continue
        self_area[area(file)] += n
        self_fn[f"{short(file)}:{fn}"] += n
        keys = [f"{short(f)}:{name}" for name, f in map(_frame, frames)]
        mine = (k for k in reversed(keys) if _is_ours(k) and not k.startswith(PASS_THROUGH))
        attributed[next(mine, LOOP)] += n
        for key in set(keys):
            anywhere[key] += n
            if _is_ours(key):
                ours[key] += n
    main = threads.get(MAIN_THREAD, 0)

    def shares(counter: Counter[str]) -> list[list[Any]]:
        if not main:
            return []
        # Frames on (nearly) every stack are the host's entry chain: no information.
        rows = [(k, v) for k, v in counter.most_common() if v < 0.98 * main]
        return [[k, round(100 * v / main, 1)] for k, v in rows[:TOP]]

    return {
        "file": str(path),
        "rate": RATE,
        "seconds": round(seconds, 2),
        "event_loop_busy_pct": round(100 * main / (RATE * seconds), 1) if seconds else None,
        "event_loop_waiting_samples": waiting,
        "samples": dict(threads.most_common()),
        "self_by_area_pct": shares(self_area),
        "self_by_function_pct": shares(self_fn),
        "attributed_to_ours_pct": shares(attributed),
        "inclusive_ours_pct": shares(ours),
        "inclusive_all_pct": shares(anywhere),
    }


def describe(summary: dict[str, Any]) -> str:
    if "error" in summary:
        return f"profile: {summary['error']}"
    burst = summary.get("burst", {})
    others = sum(v for k, v in summary["samples"].items() if k != MAIN_THREAD)
    lines = [
        f"Profile of the host during {burst.get('n')} hello-3 started at once "
        f"({burst.get('orchestrations_per_s', 0):.1f}/s under py-spy), {summary['seconds']} s "
        f"at {summary['rate']} Hz: event loop busy {summary['event_loop_busy_pct']} % of the "
        f"time; {summary['samples'].get(MAIN_THREAD, 0)} event-loop samples, {others} in "
        f"other threads. Shares below are of the event loop's samples.",
        f"stacks: {summary['file']}",
    ]
    for key, title in (("self_by_area_pct", "self time by area"),
                       ("inclusive_ours_pct", "inclusive, our functions"),
                       ("attributed_to_ours_pct",
                        "attributed to our innermost frame (self + library calls below it)"),
                       ("self_by_function_pct", "self time by function")):
        lines.append(f"  {title}:")
        lines += [f"    {pct:5.1f} %  {name}" for name, pct in summary[key][:12]]
    return "\n".join(lines)
