"""Timer triggers through a running host (tests/apps/timer_app)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from tests.e2e.conftest import HostProcess, queue, running_host, unique, wait_for_messages

pytestmark = pytest.mark.azurite


@pytest.fixture(scope="module")
def timer_host(azurite: str) -> Iterator[tuple[HostProcess, dict[str, str]]]:
    names = {"TIMER_QUEUE": unique("timer"), "STARTUP_QUEUE": unique("startup")}
    with running_host("timer_app", names) as process:
        yield process, names
        code = process.stop()
    assert code == 0, process.output
    for name in names.values():
        with contextlib.suppress(ResourceNotFoundError):
            QueueClient.from_connection_string(azurite, name).delete_queue()


def test_every_second_schedule_fires_repeatedly(
    timer_host: tuple[HostProcess, dict[str, str]], azurite: str
) -> None:
    process, names = timer_host
    bodies = wait_for_messages(queue(azurite, names["TIMER_QUEUE"]), 3, timeout=20)
    assert all(isinstance(json.loads(b)["past_due"], bool) for b in bodies)
    process.wait_for(r"Executing 'Functions.every_second' \(Reason='Timer fired at ")


def test_run_on_startup_fires_once_at_start(
    timer_host: tuple[HostProcess, dict[str, str]], azurite: str
) -> None:
    process, names = timer_host
    assert wait_for_messages(queue(azurite, names["STARTUP_QUEUE"]), 1) == ["started"]
    assert process.output.count("Executing 'Functions.on_startup'") == 1


def test_listing_shows_timer_triggers(timer_host: tuple[HostProcess, dict[str, str]]) -> None:
    process, _ = timer_host
    assert "\tevery_second: timerTrigger" in process.output
    assert "\ton_startup: timerTrigger" in process.output
