"""Under the local host, live sessions are checked against a replay by default: an
orchestrator that is not deterministic fails while developing, not after deployment."""

from __future__ import annotations

import re

import pytest

from tests.support.durable_hosts import durable_host, fresh_hub, start_direct, wait_all_finished

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", [None, "off"])
async def test_the_local_host_catches_a_changing_orchestrator(
    azurite: str, hub_name: str, mode: str | None
) -> None:
    env = {} if mode is None else {
        "AzureFunctionsJobHost__extensions__durableTask__verifyLiveSessions": mode
    }
    async with fresh_hub(azurite, hub_name) as hub:
        host = durable_host(hub_name, **env)
        try:
            host.wait_ready()
            iid = await start_direct(hub, "flip_flop", None)
            record = (await wait_all_finished(hub, [iid], timeout=60))[iid]
        finally:
            host.stop()
    if mode == "off":  # the live session hides it, as extended sessions always did
        assert record.runtime_status.name == "Completed"
        return
    assert record.runtime_status.name == "Failed"
    assert "expected 'TaskScheduled say_hello' at sequence 0" in (record.output or "")
    assert "got 'call_activity say_hello_again'" in (record.output or "")
    assert re.search(r"function_app\.py, line \d+, in flip_flop", record.output or "")
    assert "Non-deterministic orchestrator 'flip_flop'" in host.output
