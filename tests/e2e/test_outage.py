"""Storage outage: the Azurite under two busy hosts is stopped for ten seconds in the middle
of their work and started again on the same data folder.

During the outage client calls fail with `StorageUnavailableError` naming the endpoint, HTTP
calls get a 503 with a JSON body, and the hosts log the outage and back off instead of
spinning. Afterwards every instance completes, exactly once. The Azurite is this test's own
(other ports, own folder): the shared one on 10000-10002 is left alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import requests

from bench.chaos_plan import expected_output
from bench.chaos_report import delete_poison_queues, history_problems, poison_counts
from durable.client import DurableOrchestrationClient
from durable.errors import StorageUnavailableError
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.conftest import DEV_CONNECTION_STRING
from tests.e2e.conftest import ROOT, HostProcess, free_port

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 10.0
ACCOUNT_KEY = DEV_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
WEBHOOK = "runtime/webhooks/durabletask"


class PrivateAzurite:
    """An Azurite on free ports with its own data folder, stopped and started at will."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.ports = [free_port() for _ in range(3)]
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []

    @property
    def connection_string(self) -> str:
        blob, queue, table = self.ports
        base = "http://127.0.0.1:{}/devstoreaccount1"
        return (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base.format(blob)};QueueEndpoint={base.format(queue)};"
            f"TableEndpoint={base.format(table)};"
        )

    def _listening(self) -> bool:
        for port in self.ports:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) != 0:
                    return False
        return True

    def start(self, timeout: float = 60.0) -> None:
        blob, queue, table = self.ports
        self.process = subprocess.Popen(
            [str(AZURITE), "--blobPort", str(blob), "--queuePort", str(queue),
             "--tablePort", str(table), "--location", str(self.location),
             "--silent", "--skipApiVersionCheck", "--loose"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        stream = self.process.stdout
        assert stream is not None
        threading.Thread(target=lambda: self.lines.extend(stream), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._listening():
            assert self.process.poll() is None, "Azurite exited:\n" + "".join(self.lines)
            assert time.monotonic() < deadline, "Azurite did not listen in time"
            time.sleep(0.1)  # polling a port, bounded by the deadline

    def stop(self, timeout: float = 30.0) -> None:
        """Stop it the graceful way, so that its data folder is saved: SIGTERM, then wait
        until all three services report closed (Azurite's process itself lingers after)."""
        process, self.process = self.process, None
        if process is None:
            return
        seen = len(self.lines)
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while sum("successfully closed" in x for x in self.lines[seen:]) < 3:
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # polling its output, bounded by the deadline
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def private_azurite() -> Iterator[PrivateAzurite]:
    if not AZURITE.exists():
        pytest.skip("node_modules/.bin/azurite is not installed")
    location = Path(tempfile.mkdtemp(prefix="azurite-outage-"))
    azurite = PrivateAzurite(location)
    azurite.start()
    try:
        yield azurite
    finally:
        azurite.stop()
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture
async def hub(private_azurite: PrivateAzurite, hub_name: str) -> AsyncIterator[TaskHub]:
    settings = TaskHubSettings(hub_name=hub_name,
                               connection_string=private_azurite.connection_string)
    hub = TaskHub(settings)
    await hub.create_if_not_exists()
    try:
        yield hub
    finally:
        if private_azurite.process is not None:
            await delete_poison_queues(hub)
            await hub.delete()
        await hub.close()


PLAN = [*[("timer", 8)] * 10, *[("chain", None)] * 10, *[("fan", 20)] * 10]


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        await asyncio.sleep(0.2)


@pytest.mark.timeout(300)
async def test_ten_second_storage_outage(
    private_azurite: PrivateAzurite, hub: TaskHub, hub_name: str
) -> None:
    client = DurableOrchestrationClient(hub.settings, hub, check_function_names=False)
    env = {
        "TEST_HUB_NAME": hub_name,
        "AzureWebJobsStorage": private_azurite.connection_string,
        "EMULATOR_QUEUE_LEASE_SECONDS": "5",
        "ACTIVITY_MAX_SECONDS": "0.3",
    }
    hosts = [HostProcess("chaos_app", env) for _ in range(2)]
    bodies: list[str] = []
    try:
        for host in hosts:
            host.wait_ready()
        ids = [await client.start_new(name, f"{name}-{i}", payload)
               for i, (name, payload) in enumerate(PLAN)]

        async def some_finished() -> bool:
            done = [await client.get_status(i) for i in ids]
            return any(s.runtime_status and s.runtime_status.value == "Completed" for s in done)

        await wait_until(some_finished, 60, "a first completion")

        # --- the outage ---------------------------------------------------------------
        marks = [h.mark() for h in hosts]
        cpu_before = [cpu_seconds(h.process.pid) for h in hosts]
        began = time.monotonic()
        private_azurite.stop()
        blob, queue, table = private_azurite.ports

        with pytest.raises(StorageUnavailableError) as raised:
            await client.get_status(ids[0])
        assert f"http://127.0.0.1:{table}/devstoreaccount1" in str(raised.value)
        with pytest.raises(StorageUnavailableError, match=f"127.0.0.1:({table}|{queue})"):
            await client.start_new("chain", "during-outage")
        with pytest.raises(StorageUnavailableError, match=f"127.0.0.1:{table}"):
            await client.raise_event(ids[0], "go", 1)

        for method, path in [
            ("GET", f"{WEBHOOK}/instances/{ids[0]}"),
            ("POST", f"{WEBHOOK}/orchestrators/chain"),
            ("POST", f"{WEBHOOK}/instances/{ids[0]}/terminate"),
            ("POST", "api/start/chain"),  # the app's own starter, written to answer 503
        ]:
            resp = requests.request(method, hosts[0].url(path), timeout=60)
            bodies.append(resp.text)
            assert resp.status_code == 503, (path, resp.status_code, resp.text)
            assert resp.headers["Content-Type"].startswith("application/json")
            message = json.dumps(resp.json())
            assert "unreachable" in message and f"127.0.0.1:{table}" in message, message

        for host, mark in zip(hosts, marks, strict=True):
            line = host.wait_for(r"Polling queue '.*' failed: .*Connect call failed", 30,
                                 after=mark)
            assert re.search(rf"127\.0\.0\.1:({queue})", line), line
        await asyncio.sleep(max(0.0, began + OUTAGE_SECONDS - time.monotonic()))
        outage = time.monotonic() - began
        cpu_used = [cpu_seconds(h.process.pid) - c for h, c in zip(hosts, cpu_before,
                                                                     strict=True)]
        # Backing off, not spinning: well under a fifth of a core while storage is away.
        assert all(c < 0.2 * outage for c in cpu_used), (cpu_used, outage)
        for host, mark in zip(hosts, marks, strict=True):
            polls = [x for x in host.lines[mark:] if "Polling queue" in x]
            assert len(polls) <= 5, "one line per queue for the outage, not one per poll"

        # --- storage comes back ----------------------------------------------------------
        private_azurite.start()
        for host, mark in zip(hosts, marks, strict=True):
            host.wait_for(r"Queue '.*' answers again after", 60, after=mark)

        async def all_finished() -> bool:
            statuses = [await client.get_status(i) for i in ids]
            return all(s.runtime_status and s.runtime_status.value in ("Completed", "Failed")
                       for s in statuses)

        await wait_until(all_finished, 120, "completion of every instance")
        for iid, (name, payload) in zip(ids, PLAN, strict=True):
            status = await client.get_status(iid)
            assert status.runtime_status and status.runtime_status.value == "Completed", iid
            assert status.output == expected_output(name, iid, payload)
            assert history_problems(iid, (await hub.history.load_history(iid)).events) == []

        async def queues_empty() -> bool:
            return not any((await hub.queues.approximate_counts()).values())

        await wait_until(queues_empty, 60, "empty control and work-item queues")
        assert not any((await poison_counts(hub)).values())
    finally:
        codes = [h.stop() for h in hosts]
    assert codes == [0, 0]
    for text in [*bodies, *(h.output for h in hosts)]:
        assert ACCOUNT_KEY not in text
