"""The task hub's connection pool against Azurite, which closes a connection idle for about
five seconds: a host whose event loop was busy while that happened must not send its next
requests on the closed connections."""

from __future__ import annotations

import asyncio
import time

import pytest

from durable.storage import TaskHub
from durable.storage.names import work_item_queue_name

pytestmark = pytest.mark.azurite

BURST = 12


async def test_requests_after_a_busy_idle_spell_use_live_connections(
    hub: TaskHub, hub_name: str
) -> None:
    queue = hub.queues.client(work_item_queue_name(hub_name))
    # A burst opens a dozen pooled connections.
    await asyncio.gather(*(queue.send_message(f"first {i}") for i in range(BURST)))
    await asyncio.sleep(4.0)
    # The loop is blocked while Azurite closes them (5 s idle, give or take its timer), so the
    # closes are still unread when the next burst takes connections from the pool.
    time.sleep(3.5)
    hub.reset_request_counts()
    results = await asyncio.gather(
        *(queue.send_message(f"second {i}") for i in range(BURST)), return_exceptions=True
    )
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    assert failures == []
    # Each message went out in one attempt: none needed the SDK's retry.
    assert hub.request_counts.get("queue.send") == BURST
    props = await queue.get_queue_properties()
    assert props.approximate_message_count == 2 * BURST
