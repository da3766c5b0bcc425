"""A `python -m emulator start` process on the bench app, and what the bench reads from it:
the storage request counts its probe endpoint reports, and its resident memory."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.azurite import ROOT, free_ports

BENCH_APP = ROOT / "tests" / "apps" / "bench_app"
READY = re.compile(r"Host started \(http://localhost:\d+\)")
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0


@dataclass
class Counts:
    """One reading of the probe: storage requests by kind since the host started."""

    wire: dict[str, int]
    durable: dict[str, int] | None
    at: float = field(default_factory=time.time)
    runtime: dict[str, int] = field(default_factory=dict)

    def minus(self, earlier: Counts) -> Counts:
        durable = None
        if self.durable is not None and earlier.durable is not None:
            durable = _subtract(self.durable, earlier.durable)
        return Counts(_subtract(self.wire, earlier.wire), durable, self.at,
                      _subtract(self.runtime, earlier.runtime))


def _subtract(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    keys = set(a) | set(b)
    out = {k: a.get(k, 0) - b.get(k, 0) for k in keys}
    return {k: v for k, v in sorted(out.items()) if v}


def without_admin(counts: dict[str, int]) -> dict[str, int]:
    """Queue/table/container creation is once per process, not per orchestration."""
    return {k: v for k, v in counts.items() if not k.endswith(".admin")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BenchHost:
    def __init__(self, connection_string: str, hub: str, app: Path = BENCH_APP,
                 env: dict[str, str] | None = None) -> None:
        self.hub = hub
        self.port = free_ports(1)[0]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.tail: collections.deque[str] = collections.deque(maxlen=200)
        self._ready = threading.Event()
        environ = dict(os.environ)
        environ.update({"AzureWebJobsStorage": connection_string, "BENCH_HUB_NAME": hub})
        environ.update(env or {})
        # --no-reload: the host itself is measured (and profiled by pid), not a reloader.
        command = [sys.executable, "-m", "emulator", "start", "--no-reload",
                   "--script-root", str(app), "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environ, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if not self._ready.is_set() and READY.search(line):
                self._ready.set()
            self.tail.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = START_TIMEOUT) -> BenchHost:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the bench host did not start (exit {self.process.poll()}):\n"
                    + "\n".join(self.tail)
                )
        return self

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def counts(self, session: aiohttp.ClientSession) -> Counts:
        async with session.get(self.url("api/_bench/requests")) as resp:
            resp.raise_for_status()
            body: dict[str, Any] = await resp.json()
        return Counts(body["wire"], body.get("durable"), runtime=body.get("runtime", {}))

    def memory_kb(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (peak resident) of the host process, in KiB."""
        out: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
