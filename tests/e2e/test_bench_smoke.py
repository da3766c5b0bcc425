"""The benchmark suite runs end to end at its smallest sizes and reports a number for every
metric, so that bench/ cannot rot. Nothing here looks at timings or targets."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {
    "floor", "hello3", "throughput", "fanout", "sequence", "calls", "entities", "livecheck",
    "cloud", "hosts", "idle", "memory",
}

pytestmark = pytest.mark.slow


def test_quick_run_reports_every_scenario(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--profile",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = list(tmp_path.glob("*-quick.json"))
    assert len(files) == 1, sorted(p.name for p in tmp_path.iterdir())
    result = json.loads(files[0].read_text(encoding="utf-8"))
    sections = {s["name"]: s for s in result["sections"]}
    assert set(sections) == SECTIONS
    for name, section in sections.items():
        assert section["error"] is None, (name, section["error"])
        assert section["metrics"], name
        for metric in section["metrics"]:
            value = metric["value"]
            assert isinstance(value, int | float) and math.isfinite(value), (name, metric)
    assert result["floor_unit_ms"] > 0
    assert result["machine"]["nproc"] >= 1
    profile = result["profile"]
    assert profile is not None
    if "error" not in profile:
        assert profile["samples"], profile
    assert "hello-3 latency" in done.stdout
