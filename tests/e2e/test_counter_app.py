"""The counter entity of the Durable Functions documentation, unchanged but for the import,
through the real emulator: a client function signals and reads it, an orchestration
signals and calls it, and the management API reads and signals it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import HostProcess

pytestmark = pytest.mark.azurite
API = "runtime/webhooks/durabletask"


@pytest.fixture(scope="module")
def host(azurite: str) -> Iterator[HostProcess]:
    process = HostProcess("counter_app", {"TEST_HUB_NAME": "counter" + uuid.uuid4().hex[:12]})
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def eventually(get: object, expected: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = get()  # type: ignore[operator]
        if got == expected:
            return
        assert time.monotonic() < deadline, f"still {got!r}, expected {expected!r}"
        time.sleep(0.1)


def test_listed_at_start_up(host: HostProcess) -> None:
    assert "Counter: entityTrigger" in host.output
    assert "orchestrator: orchestrationTrigger" in host.output


def test_client_function_signals_and_reads(host: HostProcess) -> None:
    key = uuid.uuid4().hex[:8]
    for _ in range(3):
        resp = requests.get(host.url(f"api/entity/{key}"), timeout=10)
        assert resp.status_code == 200 and resp.text == "Entity signaled"
    assert requests.get(host.url("api/entity/fresh/state"), timeout=10).text == "No state found"
    eventually(lambda: requests.get(host.url(f"api/entity/{key}/state"), timeout=10).text, "3")


def test_orchestration_signals_then_calls(host: HostProcess) -> None:
    started = requests.post(host.url("api/orchestrators/orchestrator"), timeout=10)
    assert started.status_code == 202
    status_url = started.json()["statusQueryGetUri"]
    deadline = time.monotonic() + 30
    while (status := requests.get(status_url, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, status.text
        time.sleep(0.1)
    body = status.json()
    assert body["runtimeStatus"] == "Completed" and body["output"] == 3


def test_management_api_reads_and_signals(host: HostProcess) -> None:
    key = uuid.uuid4().hex[:8]
    signal = requests.post(host.url(f"{API}/entities/Counter/{key}?op=add"), json=5, timeout=10)
    assert signal.status_code == 202
    eventually(lambda: requests.get(host.url(f"{API}/entities/Counter/{key}"), timeout=10).text,
               "5")
    listed = requests.get(host.url(f"{API}/entities/Counter?fetchState=true"), timeout=10)
    assert {"name": "counter", "key": key} in [e["entityId"] for e in listed.json()]
    assert requests.get(host.url(f"{API}/entities/Counter/none"), timeout=10).status_code == 404
