"""The determinism lint end to end: `python -m emulator durable lint` as CI runs it (a
subprocess; its exit status), and the host's start-up warnings on the fixture app."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.support.durable_hosts import fresh_hub
from tests.support.hosts import APPS, ROOT, HostProcess, host_env

LINT_APP = APPS / "lint_app"
MARKER = re.compile(r"# finding( \(registry\))?: (DF\d{3})$")
FINDING = re.compile(r"^(?P<file>\S+\.py):(?P<line>\d+):(?P<column>\d+): (?P<code>DF\d{3}) ")


def lint(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = host_env({"PYTHONPATH": str(ROOT)})  # this checkout, from any working folder
    return subprocess.run([sys.executable, "-m", "emulator", "durable", "lint", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def marked(registry: bool) -> set[tuple[str, int, str]]:
    found = set()
    for path in LINT_APP.glob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = MARKER.search(line)
            if match and (registry or not match.group(1)):
                found.add((path.name, number, match.group(2)))
    return found


def findings(lines: Iterable[str]) -> set[tuple[str, int, str]]:
    result = set()
    for line in lines:
        match = FINDING.search(line)
        if match:
            result.add((Path(match["file"]).name, int(match["line"]), match["code"]))
    return result


def test_lint_exits_1_and_prints_each_finding() -> None:
    result = lint("--script-root", str(LINT_APP))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert findings(lines) == marked(registry=False)
    assert "tests/apps/lint_app/function_app.py:" in result.stdout  # relative to the cwd
    assert "use context.current_utc_datetime" in result.stdout
    assert lines[-1].startswith("Checked 4 orchestrators in 2 modules: 11 replay-unsafe calls")
    assert "# durable: allow" in lines[-1]


def test_lint_exits_0_on_the_sample() -> None:
    result = lint()  # the repository root is the sample app's folder
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Checked 7 orchestrators in 1 module: no replay-unsafe calls."


def test_lint_exits_2_when_the_app_cannot_be_read(tmp_path: Path) -> None:
    missing = lint("--script-root", str(tmp_path))
    assert missing.returncode == 2
    assert f"Error: No function_app.py in {tmp_path}" in missing.stderr
    broken = lint(cwd=APPS / "broken_syntax")
    assert broken.returncode == 2
    assert "function_app.py, line 9: cannot check the orchestrators" in broken.stderr


async def test_the_host_warns_at_start_up_and_starts(azurite: str, hub_name: str) -> None:
    async with fresh_hub(azurite, hub_name) as _:
        host = HostProcess("lint_app", {"TEST_HUB_NAME": hub_name})
        try:
            host.wait_ready()  # the findings never keep the app from starting
        finally:
            host.stop()
    lines = host.output.splitlines()
    # The host imported the app, so its registry adds the orchestrator registered in a loop.
    assert findings(line.split("] ", 1)[-1] for line in lines) == marked(registry=True)
    warning = next(line for line in lines if "DF101 dt.utcnow()" in line)
    assert re.search(r"\] function_app\.py:\d+:\d+: DF101 dt\.utcnow\(\) in orchestrator "
                     r"'clock_and_dice' .*use context\.current_utc_datetime", warning)
    assert any("Determinism lint: 12 replay-unsafe calls" in line for line in lines)
    ready = next(i for i, line in enumerate(lines) if line.startswith("Host started"))
    assert ready > lines.index(warning)
