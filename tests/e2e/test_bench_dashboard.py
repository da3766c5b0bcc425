"""bench/dashboard.py runs end to end at tiny sizes and prints a figure for every measure, so
that it cannot rot. Nothing here looks at timings or targets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEASURES = (
    "server: first page (top=50)", "HTTP:   first page, name prefix",
    "server: counts by status (full scan)", "server: the page (dashboard/)",
    "fetch + render the instance page", "timeline alone (build + layout)",
    "server: the status with history",
)

pytestmark = pytest.mark.slow


def test_tiny_run_reports_every_measure() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dashboard.py"), "--instances", "30",
         "--events", "20", "--repeat", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "30 instances written" in done.stdout
    assert re.search(r"\(2\d history events shown, 2\d timeline rows\)", done.stdout), done.stdout
    for measure in MEASURES:
        line = next((x for x in done.stdout.splitlines() if f"| {measure}" in x), None)
        assert line is not None, f"{measure!r} missing:\n{done.stdout}"
        median = float(line.split("|")[2])
        assert median > 0, line
