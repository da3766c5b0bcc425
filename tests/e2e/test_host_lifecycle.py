"""Graceful shutdown: SIGTERM / Ctrl-C stop new work, let running invocations finish, exit 0."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import HostProcess

pytestmark = pytest.mark.azurite


@pytest.mark.parametrize(("path", "sig"), [
    ("api/slow?seconds=1", signal.SIGTERM),
    ("api/slow-sync?seconds=1", signal.SIGINT),
])
def test_in_flight_request_finishes_after_stop_signal(
    azurite: str, path: str, sig: signal.Signals
) -> None:
    host = HostProcess("http_app")
    try:
        host.wait_ready()
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(requests.get, host.url(path), timeout=30)
            host.wait_for(r"Executing 'Functions.slow")
            host.process.send_signal(sig)
            host.wait_for(r"No longer accepting new work; waiting up to 30 s for 1 running")
            with pytest.raises(requests.ConnectionError):
                requests.get(host.url("api/plain"), timeout=5)
            response = pending.result()
        assert (response.status_code, response.text.startswith("finished")) == (200, True)
        assert host.process.wait(30) == 0
        host.wait_for(r"Executed 'Functions.slow\w*' \(Succeeded")
        host.wait_for(r"Host stopped\.")
    finally:
        host.stop()

