"""The printed table and the JSON file of a run, and the machine it ran on."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import azurite
from bench.results import Metric, Section

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "memory_gib": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "azurite": azurite.version(),
        "node": _output(["node", "--version"]),
        "loadavg_start": loadavg(),
        "hub_settings": hub_settings(),
    }
    commit = _output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "durable",
                     "emulator"])
    info["git"] = f"{commit}{' + uncommitted changes' if dirty else ''}"
    return info


def hub_settings() -> dict[str, Any]:
    """The task hub settings the bench app's host.json resolves to with this code's
    defaults (partitions, sessions, concurrency), so that a run says what it ran with."""
    from durable.storage.settings import TaskHubSettings, read_host_json

    app = ROOT / "tests" / "apps" / "bench_app"
    env = {"BENCH_HUB_NAME": "benchsettings", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    settings = TaskHubSettings.from_host_json(read_host_json(app), env)
    fields = ("partition_count", "extended_sessions_enabled", "extended_session_idle_timeout",
              "max_concurrent_activity_functions", "max_concurrent_orchestrator_functions")
    return {f: str(getattr(settings, f, "?")) for f in fields}


def _meminfo_kb(key: str) -> int:
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def apply_floor(sections: list[Section]) -> float | None:
    """Express durations in floor units: the p50 of a single storage call."""
    unit = next((m.value for s in sections for m in s.metrics if m.key == "floor.unit_ms"),
                None)
    if not unit:
        return None
    for section in sections:
        for metric in section.metrics:
            if metric.floor_seconds is not None:
                metric.floor_x = metric.floor_seconds * 1000 / unit
    return unit


def _fmt(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _target(metric: Metric) -> str:
    t = metric.target
    if t is None:
        return ""
    return f"{t.op} {_fmt(t.bound)} {metric.unit}".strip()


def table(sections: list[Section], unit_ms: float | None, quick: bool) -> str:
    lines = []
    if quick:
        lines.append("QUICK RUN: small sizes; targets stated for other sizes show n/a.")
    if unit_ms:
        lines.append(f"x floor = the figure (a duration, or 1/rate) divided by one storage "
                     f"round trip, {unit_ms:.2f} ms (floor.unit_ms).")
    header = f"{'metric':<58} {'value':>10} {'unit':<6} {'x floor':>8}  {'target':<12} verdict"
    lines += ["", header, "-" * len(header)]
    for section in sections:
        lines.append(section.title)
        if section.error:
            lines.append(f"  ! {section.error}")
        for m in section.metrics:
            floor_x = _fmt(m.floor_x) if m.floor_x is not None else ""
            lines.append(f"  {m.label[:56]:<56} {_fmt(m.value):>10} {m.unit:<6} {floor_x:>8}  "
                         f"{_target(m):<12} {m.verdict}")
    lines += _breakdowns(sections)
    verdicts = [m.verdict for s in sections for m in s.metrics if m.verdict in ("PASS", "FAIL")]
    lines += ["", f"targets: {verdicts.count('PASS')} pass, {verdicts.count('FAIL')} fail"]
    return "\n".join(lines)


def _breakdowns(sections: list[Section]) -> list[str]:
    """Storage requests per unit by kind, as counted on the wire of the host process."""
    lines = []
    for section in sections:
        for key, detail in section.details.items():
            if isinstance(detail, dict) and "wire_per_unit" in detail:
                kinds = ", ".join(f"{k} {v:g}" for k, v in detail["wire_per_unit"].items())
                lines.append(f"  {key} by kind: {kinds}")
    return ["", "Requests per unit by kind (host process, on the wire):", *lines] if lines else []


def markdown(result: dict[str, Any]) -> str:
    """A saved run as Markdown tables (for BENCHMARKS.md): machine, then every metric."""
    m = result["machine"]
    unit = result.get("floor_unit_ms")
    lines = [
        f"Run {result['started']}{' (quick sizes)' if result.get('quick') else ''}, "
        f"{result.get('duration_s', '?')} s; code {m.get('git', '?')}.",
        "",
        "| machine | |",
        "|---|---|",
        f"| cores (nproc) | {m.get('nproc')} ({m.get('cpu', '?')}) |",
        f"| memory | {m.get('memory_gib')} GiB |",
        f"| Python | {m.get('python')} |",
        f"| Azurite | {m.get('azurite')} (Node {m.get('node', '?')}) |",
        f"| platform | {m.get('platform', '?')} |",
        f"| load average (1, 5, 15 min) at start / end | {m.get('loadavg_start')} / "
        f"{m.get('loadavg_end')} |",
    ]
    if m.get("hub_settings"):
        hub = ", ".join(f"{k} {v}" for k, v in m["hub_settings"].items())
        lines.append(f"| task hub settings | {hub} |")
    lines.append("")
    if unit:
        lines += [f"x floor: the figure (a duration, or 1/rate) / {unit:.2f} ms, one storage "
                  "round trip (`floor.unit_ms`).", ""]
    lines += ["| metric | value | x floor | target | |", "|---|---|---|---|---|"]
    for section in result["sections"]:
        lines.append(f"| **{section['title']}** | | | | |")
        if section.get("error"):
            lines.append(f"| error: {section['error']} | | | | |")
        for metric in section["metrics"]:
            target = metric.get("target")
            bound = f"{target['op']} {_fmt(target['bound'])} {metric['unit']}" if target else ""
            floor_x = metric.get("floor_x")
            lines.append(
                f"| {metric['label']} | {_fmt(metric['value'])} {metric['unit']} | "
                f"{_fmt(floor_x) if floor_x is not None else ''} | {bound} | "
                f"{metric.get('verdict', '')} |"
            )
    return "\n".join(lines)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_default) + "\n", encoding="utf-8")


def _default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)
