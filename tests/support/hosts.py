"""Fixtures that run `python -m emulator start` as a subprocess on the apps in tests/apps/.

A `HostProcess` collects the host's stdout and stderr in the background; tests wait for
lines (always with a deadline), drive the app over HTTP and queues, and stop it with
SIGTERM. Queue names come from app settings, overridden here with unique names per run.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, QueueMessage

from bench.azurite import free_ports

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"
READY = re.compile(r"^Host started \(http://localhost:\d+\)$")
START_TIMEOUT = 60.0


def free_port() -> int:
    """A port for a host to listen on, outside the range outgoing connections take theirs
    from (see `bench.azurite.free_ports`)."""
    return free_ports(1)[0]


def unique(prefix: str) -> str:
    """A queue name unique to this run (lowercase, <= 63 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def host_command(app: str | Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "emulator", "start", "--script-root", str(APPS / app),
            "--port", str(port), *extra]


def host_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides or {})
    return env


class HostProcess:
    def __init__(self, app: str, env: dict[str, str] | None = None, *extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            host_command(app, self.port, *extra), cwd=ROOT, env=host_env(env),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,),
                                        daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 30.0,
                 after: int = 0) -> str:
        """The first output line (from index `after`) matching `pattern`; fails at the deadline."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[after:]:
                    if regex.search(line):
                        return line
                remaining = deadline - time.monotonic()
                finished = self.process.poll() is not None and not self._reader.is_alive()
                if remaining <= 0 or finished:
                    raise AssertionError(
                        f"no output line matched {regex.pattern!r} within {timeout} s "
                        f"(exit code {self.process.poll()}). Output:\n" + "\n".join(self.lines)
                    )
                self._changed.wait(min(remaining, 0.5))

    def wait_ready(self) -> None:
        self.wait_for(READY, START_TIMEOUT)

    def mark(self) -> int:
        """An index into the output, to wait only for lines printed after this point."""
        with self._changed:
            return len(self.lines)

    def stop(self, timeout: float = 45.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the host did not exit in time after SIGTERM") from None
        finally:
            self._reader.join(5)


@contextmanager
def running_host(app: str, env: dict[str, str] | None = None, *extra: str) -> Iterator[HostProcess]:
    host = HostProcess(app, env, *extra)
    try:
        host.wait_ready()
        yield host
    finally:
        if host.process.poll() is None:
            host.stop()


def run_to_exit(app: str | Path, env: dict[str, str] | None = None, port: int | None = None,
                timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run the host on an app that must fail at start-up."""
    return subprocess.run(
        host_command(app, port or free_port()), cwd=ROOT, env=host_env(env),
        capture_output=True, text=True, timeout=timeout,
    )


def queue(connection: str, name: str) -> QueueClient:
    client = QueueClient.from_connection_string(connection, name)
    with suppress(ResourceExistsError):
        client.create_queue()
    return client


def wait_for_messages(client: QueueClient, count: int, timeout: float = 30.0,
                      accept: Callable[[QueueMessage], bool] = lambda m: True,
                      decode: bool = True) -> list[str]:
    """Receive (and delete) messages until `count` accepted ones arrived; fail at the deadline.

    Bodies are decoded from Base64 (the host's default messageEncoding) unless `decode` is
    False."""
    found: list[str] = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        for message in client.receive_messages(max_messages=32, visibility_timeout=30):
            client.delete_message(message)
            if accept(message):
                content = str(message.content)
                found.append(base64.b64decode(content).decode() if decode else content)
        if len(found) >= count:
            break
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} of {count} message(s) arrived on '{client.queue_name}' within "
                f"{timeout} s: {found}"
            )
        time.sleep(0.1)  # polling interval against an external queue, bounded by the deadline
    return found

