"""Find, start and stop Azurite for `UseDevelopmentStorage=true`.

If something already listens on the development ports (10000-10002) the host uses it.
Otherwise it starts `azurite` from the nearest `node_modules/.bin` above the app folder
(else from PATH) with its data under `<app>/__azurite__/`, waits until all three services
listen, and stops it when the host exits.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from emulator.devstorage import DEV_PORTS
from emulator.errors import AzuriteError
from emulator.logs import host_logger

DATA_DIR = "__azurite__"
START_TIMEOUT = 30.0
_log = host_logger("azurite")


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def find_executable(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "node_modules" / ".bin" / "azurite"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("azurite")
    return Path(found) if found else None


class Azurite:
    """A started Azurite process (or nothing, if one was already running)."""

    def __init__(self, process: subprocess.Popen[bytes] | None = None) -> None:
        self.process = process

    @property
    def started(self) -> bool:
        return self.process is not None

    @classmethod
    async def ensure(cls, app_dir: Path) -> Azurite:
        ports = list(DEV_PORTS.values())
        up = [p for p in ports if listening(p)]
        if len(up) == len(ports):
            _log.debug("Azurite (or another emulator) already listens on %s.", ports)
            return cls()
        if up:
            down = [p for p in ports if p not in up]
            raise AzuriteError(
                f"Ports {up} are in use but {down} are not: cannot start Azurite alongside "
                "whatever holds them.",
                "Stop that process, or start a complete Azurite yourself.",
            )
        return cls(await _start(app_dir))

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _log.info("Stopping Azurite (pid %d).", process.pid)
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _start(app_dir: Path) -> subprocess.Popen[bytes]:
    executable = find_executable(app_dir)
    if executable is None:
        raise AzuriteError(
            "AzureWebJobsStorage is UseDevelopmentStorage=true, nothing listens on ports "
            "10000-10002, and Azurite is not installed.",
            "Install it (`npm install azurite` in the project, or `npm install -g azurite`), "
            "or start a storage emulator yourself.",
        )
    data = app_dir / DATA_DIR
    data.mkdir(exist_ok=True)
    command = [str(executable), "--silent", "--skipApiVersionCheck", "--loose",
               "--location", str(data)]
    _log.info("Starting Azurite: %s", " ".join(command))
    log_file = (data / "azurite.log").open("ab")
    process = subprocess.Popen(
        command, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C goes to the host, which stops Azurite itself
    )
    log_file.close()
    deadline = time.monotonic() + START_TIMEOUT
    while not all(listening(p) for p in DEV_PORTS.values()):
        if process.poll() is not None:
            raise AzuriteError(
                f"Azurite exited with status {process.returncode} before listening.",
                f"See {data / 'azurite.log'}.",
            )
        if time.monotonic() > deadline:
            Azurite(process).stop()
            raise AzuriteError(
                f"Azurite did not listen on 10000-10002 within {START_TIMEOUT:.0f} s."
            )
        await asyncio.sleep(0.1)
    _log.info("Azurite is listening (pid %d, data in %s).", process.pid, data)
    return process
