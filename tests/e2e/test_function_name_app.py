"""An app written the SDK's way, `@app.function_name` above each durable trigger, through the
real emulator: the host lists the functions under their Function names and runs them."""

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
    process = HostProcess("function_name_app", {"TEST_HUB_NAME": "fname" + uuid.uuid4().hex[:12]})
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def test_listed_under_their_function_names(host: HostProcess) -> None:
    for line in ("HelloOrchestrator: orchestrationTrigger", "SayHello: activityTrigger",
                 "Counter: entityTrigger", "HttpStart:"):
        assert line in host.output, host.output
    assert "hello_orchestrator:" not in host.output and "say_hello:" not in host.output


def test_runs_under_the_new_names(host: HostProcess) -> None:
    started = requests.post(host.url("api/start"), timeout=10)
    assert started.status_code == 202, started.text
    status_url = started.json()["statusQueryGetUri"]
    deadline = time.monotonic() + 30
    while (status := requests.get(status_url, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, status.text
        time.sleep(0.2)
    body = status.json()
    assert body["name"] == "HelloOrchestrator"
    assert body["runtimeStatus"] == "Completed", body
    assert body["output"] == "Hello Tokyo!"
