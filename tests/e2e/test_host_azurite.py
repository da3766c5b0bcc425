"""The host starts Azurite itself for UseDevelopmentStorage=true when nothing listens.

The shared Azurite of the test session holds ports 10000-10002, so the host runs in a
network namespace of its own (`unshare -n`, Linux, needs the privilege to create one);
elsewhere the test is skipped."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import APPS, ROOT, host_env

APP = APPS / "timer_app"


def _namespaces_available() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0 and shutil.which("ip") is not None


pytestmark = pytest.mark.skipif(
    not _namespaces_available() or not (ROOT / "node_modules" / ".bin" / "azurite").exists(),
    reason="needs `unshare -n` (a private network namespace) and node_modules/.bin/azurite",
)


def test_host_starts_and_stops_its_own_azurite() -> None:
    data = APP / "__azurite__"
    shutil.rmtree(data, ignore_errors=True)
    script = (
        "ip link set lo up && exec " + " ".join(
            [sys.executable, "-m", "emulator", "start", "--script-root", str(APP), "--port", "7071"]
        )
    )
    process = subprocess.Popen(
        ["unshare", "-n", "sh", "-c", script], cwd=ROOT, env=host_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    watchdog = threading.Timer(60, process.kill)  # the deadline for the whole run
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:  # ends when the host exits (or the watchdog kills it)
            lines.append(line)
            if "Executed 'Functions.on_startup' (Succeeded" in line:
                process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, "".join(lines)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        shutil.rmtree(data, ignore_errors=True)
    output = "".join(lines)
    assert f"Starting Azurite: {ROOT / 'node_modules' / '.bin' / 'azurite'}" in output
    assert f"--location {data}" in output
    assert "Host started" in output
    match = re.search(r"Stopping Azurite \(pid (\d+)\)", output)
    assert match, output
    assert not Path(f"/proc/{match.group(1)}").exists() or _is_zombie(match.group(1))


def _is_zombie(pid: str) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True


def test_data_folder_is_git_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(APP / "__azurite__" / "x")], cwd=ROOT
    )
    assert ignored.returncode == 0
