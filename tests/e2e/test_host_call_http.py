"""call_http through the real emulator: an orchestration calls a long-running HTTP API (an
HTTP function of the same app) and polls its 202s at host.json's interval."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import HostProcess

pytestmark = pytest.mark.azurite


@pytest.fixture(scope="module")
def host(azurite: str) -> Iterator[HostProcess]:
    process = HostProcess("http_call_app", {"TEST_HUB_NAME": "httpcall" + uuid.uuid4().hex[:12]})
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def test_the_202_pattern_is_polled_at_the_host_json_interval(host: HostProcess) -> None:
    started = requests.post(host.url("api/start"), timeout=10)
    assert started.status_code == 202, started.text
    status_url = started.json()["statusQueryGetUri"]
    began = time.monotonic()
    # Two polls at the default 30 s would need a minute; host.json says 0.5 s.
    deadline = began + 20
    while (status := requests.get(status_url, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, status.text
        time.sleep(0.1)
    body = status.json()
    assert body["runtimeStatus"] == "Completed", body
    assert body["output"] == {"status": 200, "content": "report ready"}
    assert requests.get(host.url("api/hits"), timeout=10).json() == {"start": 1, "status": 3}
    history = requests.get(f"{status_url}&showHistory=true", timeout=10).json()["historyEvents"]
    kinds = [e["EventType"] for e in history]
    assert kinds.count("TimerCreated") == 3 and kinds.count("TaskCompleted") == 4
