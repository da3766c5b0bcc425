"""Two host processes serve one task hub: 100 orchestrations fanning out 20 activities each."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.durable_hosts import (
    duplicate_completions,
    durable_host,
    hub_for,
    start,
    wait_all_finished,
)

pytestmark = pytest.mark.slow


async def test_two_hosts_complete_every_instance_once(azurite: str, hub_name: str) -> None:
    hub = hub_for(hub_name, azurite)
    hosts = [durable_host(hub_name, lease_seconds=30) for _ in range(2)]
    try:
        for h in hosts:
            h.wait_ready()
        with ThreadPoolExecutor(8) as pool:
            ids = list(
                pool.map(
                    lambda i: start(hosts[i % 2], "fan_out", {"prefix": f"{i}-", "n": 20}),
                    range(100),
                )
            )
        finished = await wait_all_finished(hub, ids, timeout=300)
        assert all(json.loads(r.output or "0") == 20 for r in finished.values()), [
            r.output for r in finished.values() if r.output != "20"
        ][:3]
        ran = re.compile(r"Executed 'Functions\.durable_control_\d+' \(Succeeded")
        served = [len(ran.findall(h.output)) for h in hosts]
        assert all(n > 0 for n in served), f"both hosts should run orchestrations: {served}"
        for iid in ids[:20]:
            events = (await hub.history.load_history(iid)).events
            assert duplicate_completions(events) == []
    finally:
        for h in hosts:
            h.stop()
        await hub.delete()
        await hub.close()
