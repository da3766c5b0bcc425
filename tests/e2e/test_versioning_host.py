"""Versioning through the local host: host.json `defaultVersion` (set as an app setting
override) stamps new instances, the management API starts and shows versions, and a host of
an older version leaves a newer instance queued for a host that can run it."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.support.durable_hosts import durable_host, hub_for, start

API = "runtime/webhooks/durabletask"
DEFAULT_VERSION = "AzureFunctionsJobHost__extensions__durableTask__defaultVersion"


def _status(host: Any, iid: str) -> dict[str, Any]:
    resp = requests.get(host.url(f"{API}/instances/{iid}"), timeout=30)
    assert resp.status_code in (200, 202), resp.text
    body: dict[str, Any] = resp.json()
    return body


def _finished(host: Any, iid: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = _status(host, iid)
        if body["runtimeStatus"] in ("Completed", "Failed", "Terminated"):
            return body
        assert time.monotonic() < deadline, f"{iid} did not finish: {body}"
        time.sleep(0.2)


async def test_hosts_stamp_show_and_gate_versions(azurite: str, hub_name: str) -> None:
    hub = hub_for(hub_name, azurite)
    old = durable_host(hub_name, 4, **{DEFAULT_VERSION: "2.0"})
    new = None
    try:
        old.wait_ready()
        stamped = start(old, "hello_sequence", "v-")
        body = _finished(old, stamped)
        assert body["runtimeStatus"] == "Completed" and body["version"] == "2.0"

        resp = requests.post(host_url := old.url(f"{API}/orchestrators/hello_sequence"),
                             params={"version": "3.0"}, timeout=30)
        assert resp.status_code == 202, (host_url, resp.text)
        newer = resp.json()["id"]
        old.wait_for(rf"Not running '{newer}' on this host: .*'3\.0'.*'2\.0'")
        assert _status(old, newer)["runtimeStatus"] == "Pending"
        assert _status(old, newer)["version"] == "3.0"
        old.stop()

        new = durable_host(hub_name, 4, **{DEFAULT_VERSION: "3.0"})
        new.wait_ready()
        body = _finished(new, newer)
        assert body["runtimeStatus"] == "Completed", body
        assert body["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        listed = requests.get(new.url(f"{API}/instances"), params={"version": "3.0"},
                              timeout=30).json()
        assert [b["instanceId"] for b in listed] == [newer]
    finally:
        old.stop()
        if new is not None:
            new.stop()
        await hub.delete()
        await hub.close()
