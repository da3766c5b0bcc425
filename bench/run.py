#!/usr/bin/env python3
"""The benchmark suite: one command, self-contained.

    python bench/run.py [--quick] [--only floor,latency,...] [--profile] [--out DIR]
    python bench/run.py --markdown bench/results/<run>.json

Starts a private Azurite on free ports and the bench app's hosts (`python -m emulator start`
on tests/apps/bench_app, a fresh task hub each), measures every scenario, prints a table
with each figure beside its multiple of the floor and its target, and writes everything to
bench/results/<timestamp>.json. What each number means is in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench import report  # noqa: E402
from bench.azurite import PrivateAzurite  # noqa: E402
from bench.context import FULL, QUICK, Bench  # noqa: E402
from bench.results import Section  # noqa: E402
from bench.scenarios import (  # noqa: E402
    cloud,
    entities,
    fanout,
    floor,
    hosts,
    idle,
    latency,
    livecheck,
    memory,
    sequence,
    throughput,
)

SCENARIOS = ("floor", "latency", "throughput", "fanout", "sequence", "entities", "livecheck",
             "cloud", "hosts", "memory", "idle")
RESULTS = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the benchmark suite (see BENCHMARKS.md).")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, well under a minute (a smoke run, not a measurement)")
    parser.add_argument("--only", default="",
                        help=f"comma-separated scenarios to run: {','.join(SCENARIOS)}")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the host (py-spy) during a hello-3 throughput burst")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--markdown", type=Path, metavar="JSON",
                        help="print a saved run as Markdown tables and exit (runs nothing)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    args.scenarios = chosen
    return args


async def _guard(name: str, sections: list[Section],
                 step: Callable[[], Awaitable[Section | list[Section]]]) -> None:
    """Run one scenario; a failure is recorded in its section and the run goes on."""
    began = time.monotonic()
    print(f"[{name}] running...", file=sys.stderr, flush=True)
    try:
        got = await step()
    except Exception as exc:
        traceback.print_exc()
        failed = Section(name, f"{name}: failed")
        failed.error = f"{type(exc).__name__}: {exc}"
        sections.append(failed)
    else:
        sections.extend(got if isinstance(got, list) else [got])
    print(f"[{name}] done in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)


async def run_suite(args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    sections: list[Section] = []
    info = report.machine()
    began = time.monotonic()
    azurite = PrivateAzurite().start()
    try:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            bench = Bench(azurite, session, sizes, args.out, stamp)
            probe = None
            if "idle" in args.scenarios:
                probe = idle.IdleProbe(bench)
                await probe.start()
            chosen = args.scenarios
            if "floor" in chosen:
                await _guard("floor", sections, lambda: floor.run(bench))
            calls: Section | None = None
            if "latency" in chosen:
                await _guard("latency", sections, lambda: latency.run(bench))
                calls = next((s for s in sections if s.name == "calls"), None)
            if calls is None:
                calls = Section("calls", "Storage requests counted on the wire (host process)")
                sections.append(calls)
            steps: dict[str, Callable[[], Awaitable[Section | list[Section]]]] = {
                "throughput": lambda: throughput.run(bench),
                "fanout": lambda: fanout.run(bench, calls),
                "sequence": lambda: sequence.run(bench),
                "entities": lambda: entities.run(bench),
                "livecheck": lambda: livecheck.run(bench),
                "cloud": lambda: cloud.run(bench),
                "hosts": lambda: hosts.run(bench),
                "memory": lambda: memory.run(bench),
            }
            for name, step in steps.items():
                if name in chosen:
                    await _guard(name, sections, step)
            profile: dict[str, Any] | None = None
            if args.profile:
                from bench import profile as profiler

                profile = await profiler.run(bench)
            if probe is not None:
                await _guard("idle", sections, probe.finish)
    finally:
        azurite.stop()
    if not calls.metrics:
        sections.remove(calls)
    sections.sort(key=lambda s: _ORDER.get(s.name, 99))
    unit = report.apply_floor(sections)
    info["loadavg_end"] = report.loadavg()
    return {
        "started": stamp,
        "quick": args.quick,
        "duration_s": round(time.monotonic() - began, 1),
        "sizes": sizes.__dict__,
        "machine": info,
        "floor_unit_ms": unit,
        "sections": [s.to_json() for s in sections],
        "profile": profile,
        "_sections": sections,
    }


_ORDER = {"floor": 0, "hello3": 1, "throughput": 2, "fanout": 3, "sequence": 4, "entities": 5,
          "livecheck": 6, "cloud": 7, "hosts": 8, "calls": 9, "idle": 10, "memory": 11}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown:
        print(report.markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return 0
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = asyncio.run(run_suite(args, stamp))
    sections: list[Section] = result.pop("_sections")
    print(report.table(sections, result["floor_unit_ms"], args.quick))
    if result.get("profile"):
        from bench import profile as profiler

        print()
        print(profiler.describe(result["profile"]))
    m = result["machine"]
    print(f"\nmachine: {m['nproc']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
          f"Azurite {m['azurite']}, load {m['loadavg_start']} -> {m['loadavg_end']}, "
          f"code {m['git']}")
    path = args.out / f"{stamp}{'-quick' if args.quick else ''}.json"
    report.write_json(path, result)
    print(f"results: {path}")
    failed = [s.name for s in sections if s.error]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
