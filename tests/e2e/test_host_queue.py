"""Queue triggers and queue output bindings through a running host (tests/apps/queue_app).

The app's host.json sets maxDequeueCount 2 and a 1 s maxPollingInterval; every queue name
is unique to this run."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.e2e.conftest import HostProcess, queue, running_host, unique, wait_for_messages

pytestmark = pytest.mark.azurite


@dataclass
class QueueHost:
    host: HostProcess
    connection: str
    names: dict[str, str]

    def client(self, setting: str, suffix: str = "") -> QueueClient:
        return queue(self.connection, self.names[setting] + suffix)

    def send(self, setting: str, body: str) -> None:
        client = QueueClient.from_connection_string(
            self.connection, self.names[setting], message_encode_policy=TextBase64EncodePolicy()
        )
        client.send_message(body)

    def outputs(self, count: int, function: str) -> list[dict[str, object]]:
        found = wait_for_messages(
            self.client("OUTPUT_QUEUE"), count,
            accept=lambda m: json.loads(base64.b64decode(m.content))["function"] == function,
        )
        return [json.loads(body) for body in found]


@pytest.fixture(scope="module")
def app(azurite: str) -> Iterator[QueueHost]:
    settings = ("INPUT_QUEUE", "ASYNC_QUEUE", "FANOUT_QUEUE", "POISON_QUEUE", "WAKE_QUEUE",
                "OUTPUT_QUEUE")
    names = {s: unique(s.split("_")[0].lower()) for s in settings}
    with running_host("queue_app", names, "--verbose") as process:
        yield QueueHost(process, azurite, names)
        code = process.stop()
    assert code == 0, process.output
    for name in names.values():
        for suffix in ("", "-poison"):
            with contextlib.suppress(ResourceNotFoundError):
                QueueClient.from_connection_string(azurite, name + suffix).delete_queue()


def test_listing_names_queue_triggers(app: QueueHost) -> None:
    for name in ("process", "process_async", "fan_out", "always_fails", "on_wake"):
        assert f"\t{name}: queueTrigger" in app.host.output
    # host.json sets extensions.http.routePrefix to "hooks"
    assert f"enqueue: [POST] http://localhost:{app.host.port}/hooks/enqueue" in app.host.output


def test_message_in_output_binding_out(app: QueueHost) -> None:
    app.send("INPUT_QUEUE", "hello queue")
    (result,) = app.outputs(1, "process")
    assert result["body"] == "hello queue"
    assert result["dequeue_count"] == 1
    assert result["has_pop_receipt"] is True
    assert result["id"] and result["inserted"] and result["expires"]
    app.host.wait_for(r"Executed 'Functions.process' \(Succeeded, Id=")
    app.host.wait_for(r"New queue message detected on '" + app.names["INPUT_QUEUE"])


def test_processed_message_is_deleted(app: QueueHost) -> None:
    app.send("INPUT_QUEUE", "delete me")
    app.outputs(1, "process")
    app.host.wait_for(r"Executed 'Functions.process' \(Succeeded")
    source = app.client("INPUT_QUEUE")
    assert source.get_queue_properties().approximate_message_count == 0


def test_async_function_return_value_to_queue(app: QueueHost) -> None:
    app.send("ASYNC_QUEUE", json.dumps({"n": 21}))
    assert app.outputs(1, "process_async") == [{"function": "process_async", "doubled": 42}]


def test_list_output_sends_one_message_per_item(app: QueueHost) -> None:
    app.send("FANOUT_QUEUE", "batch")
    parts = sorted(str(m["part"]) for m in app.outputs(3, "fan_out"))
    assert parts == ["batch-0", "batch-1", "batch-2"]


def test_failing_message_lands_in_poison_queue_after_max_dequeue_count(app: QueueHost) -> None:
    app.send("POISON_QUEUE", "bad message")
    poison = app.client("POISON_QUEUE", "-poison")
    assert wait_for_messages(poison, 1) == ["bad message"]
    app.host.wait_for(r"Message has reached MaxDequeueCount of 2\. Moving message to queue "
                      rf"'{app.names['POISON_QUEUE']}-poison'")
    failures = app.host.output.count("Executed 'Functions.always_fails' (Failed")
    assert failures == 2  # maxDequeueCount = 2 in host.json
    assert app.client("POISON_QUEUE").get_queue_properties().approximate_message_count == 0


def test_message_that_is_not_base64_goes_to_poison(app: QueueHost) -> None:
    raw = QueueClient.from_connection_string(app.connection, app.names["INPUT_QUEUE"])
    raw.send_message("not base64 !!")
    poison = app.client("INPUT_QUEUE", "-poison")
    found = wait_for_messages(poison, 1, decode=False)
    assert found == ["not base64 !!"]
    app.host.wait_for(r"is not valid Base64")


def test_in_process_send_wakes_the_listener(app: QueueHost) -> None:
    mark = app.host.mark()
    response = requests.post(app.host.url("hooks/enqueue"), data="ping", timeout=10)
    assert response.status_code == 202
    app.host.wait_for(rf"In-process send to queue '{app.names['WAKE_QUEUE']}': waking its "
                      r"listener\.$", after=mark)
    assert app.outputs(1, "on_wake") == [{"function": "on_wake", "body": "ping"}]


def test_delayed_in_process_send_wakes_when_visible(app: QueueHost) -> None:
    mark = app.host.mark()
    response = requests.post(app.host.url("hooks/enqueue?delay=1"), data="later", timeout=10)
    assert response.status_code == 202
    app.host.wait_for(r"waking its listener in 1 s, when it becomes visible", after=mark)
    assert app.outputs(1, "on_wake") == [{"function": "on_wake", "body": "later"}]
