"""A private Azurite for one benchmark run: free ports, a temporary data folder, stopped and
deleted at the end. Never the shared one on 10000-10002, so other test runs on the machine
neither see the benchmark's hubs nor add their load to its storage (they still share the CPU).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from emulator.storage import DEV_ACCOUNT, DEV_KEY

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_GRACE = 2.0


# Where the kernel picks the local ports of outgoing connections, when it does not say.
DEFAULT_EPHEMERAL = (32768, 60999)
LOWEST_PORT = 10100  # above the shared Azurite's 10000-10002


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for the local ends of outgoing connections (Linux says it)."""
    try:
        low, high = (int(x) for x in
                     Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return low, high


def free_ports(count: int) -> list[int]:
    """Ports free now, outside the kernel's ephemeral range, held open together so that
    they differ. A port from that range (what binding port 0 gives) can be taken as the
    local end of an outgoing connection between this pick and the server's own bind: with
    hosts making hundreds of storage connections a second, a chaos host then failed to
    start with "address in use"."""
    low, high = ephemeral_range()
    candidates = list(range(LOWEST_PORT, low)) or list(range(high + 1, 65536))
    random.SystemRandom().shuffle(candidates)
    socks: list[socket.socket] = []
    try:
        for port in candidates:
            if len(socks) == count:
                break
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            socks.append(sock)
        if len(socks) < count:
            raise RuntimeError(f"no {count} free ports outside {low}-{high}")
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def executable() -> Path:
    local = ROOT / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return local
    found = shutil.which("azurite")
    if found is None:
        raise SystemExit("Azurite is not installed: run `npm ci` in the repository root")
    return Path(found)


def version() -> str:
    package = ROOT / "node_modules" / "azurite" / "package.json"
    if package.exists():
        return str(json.loads(package.read_text(encoding="utf-8")).get("version", "?"))
    out = subprocess.run([str(executable()), "--version"], capture_output=True, text=True)
    return out.stdout.strip() or "?"


class PrivateAzurite:
    def __init__(self) -> None:
        self.blob_port, self.queue_port, self.table_port = free_ports(3)
        self.data = tempfile.mkdtemp(prefix="azurite-bench-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ports(self) -> list[int]:
        return [self.blob_port, self.queue_port, self.table_port]

    @property
    def connection_string(self) -> str:
        return self.connection_string_via(lambda port: port)

    def connection_string_via(self, port_for: Callable[[int], int]) -> str:
        """The connection string with each endpoint's port mapped (to a proxy in front)."""
        base = f"http://127.0.0.1:{{}}/{DEV_ACCOUNT}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint={base.format(port_for(self.blob_port))};"
            f"QueueEndpoint={base.format(port_for(self.queue_port))};"
            f"TableEndpoint={base.format(port_for(self.table_port))};"
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> PrivateAzurite:
        command = [
            str(executable()),
            "--blobPort", str(self.blob_port),
            "--queuePort", str(self.queue_port),
            "--tablePort", str(self.table_port),
            "--location", self.data,
            "--silent", "--skipApiVersionCheck", "--loose",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        ports = (self.blob_port, self.queue_port, self.table_port)
        while not all(listening(p) for p in ports):
            if self.process.poll() is not None:
                raise RuntimeError(f"Azurite exited with status {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Azurite did not listen on {ports} within {START_TIMEOUT} s")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            # Azurite waits for idle keep-alive connections before it exits; its data is
            # thrown away anyway.
            process.terminate()
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> PrivateAzurite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
