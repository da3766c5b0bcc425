"""Blob and table bindings, binding expressions, SDK types, retry policies and unsupported
bindings through a running host (tests/apps/bindings_app); names are unique to this run."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.e2e.blob_helpers import container, delete_containers
from tests.e2e.conftest import HostProcess, queue, running_host, unique, wait_for_messages

pytestmark = pytest.mark.azurite


@dataclass
class App:
    host: HostProcess
    connection: str
    names: dict[str, str]

    def url(self, path: str) -> str:
        return self.host.url(f"api/{path}")

    def blob(self, name: str) -> bytes | None:
        client = container(self.connection, self.names["DATA_CONTAINER"]).get_blob_client(name)
        try:
            return bytes(client.download_blob().readall())
        except ResourceNotFoundError:
            return None

    def send(self, setting: str, body: str) -> None:
        QueueClient.from_connection_string(
            self.connection, self.names[setting], message_encode_policy=TextBase64EncodePolicy()
        ).send_message(body)


@pytest.fixture(scope="module")
def app(azurite: str) -> Iterator[App]:
    names = {"DATA_CONTAINER": unique("data"), "TABLE_NAME": "t" + unique("rows")[5:],
             "NAME_QUEUE": unique("names"), "JSON_QUEUE": unique("json"),
             "OUTPUT_QUEUE": unique("out"), "RETRY_QUEUE": unique("retry")}
    with running_host("bindings_app", names) as process:
        yield App(process, azurite, names)
        assert process.stop() == 0, process.output
    delete_containers(azurite, names["DATA_CONTAINER"])
    with contextlib.suppress(ResourceNotFoundError):
        TableServiceClient.from_connection_string(azurite).delete_table(names["TABLE_NAME"])
    for setting in ("NAME_QUEUE", "JSON_QUEUE", "OUTPUT_QUEUE", "RETRY_QUEUE"):
        for suffix in ("", "-in", "-poison"):
            with contextlib.suppress(ResourceNotFoundError):
                QueueClient.from_connection_string(azurite, names[setting] + suffix).delete_queue()


def test_blob_output_then_input_and_a_missing_blob_is_none(app: App) -> None:
    assert requests.get(app.url("blobs/note.txt"), timeout=10).json() == {"missing": True}
    response = requests.put(app.url("blobs/note.txt"), data="written by a binding", timeout=10)
    assert response.status_code == 201
    assert requests.get(app.url("blobs/note.txt"), timeout=10).json() == {
        "content": "written by a binding"}
    archived = [b.name for b in container(app.connection, app.names["DATA_CONTAINER"])
                .list_blobs(name_starts_with="archive/")]
    (name,) = archived
    year = datetime.now(UTC).year
    assert re.fullmatch(rf"archive/{year}/[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}\.txt",
                        name), name


def test_outputs_are_not_written_when_the_function_fails(app: App) -> None:
    response = requests.put(app.url("blobs/never.txt?fail=1"), data="x", timeout=10)
    assert response.status_code == 500
    assert app.blob("never.txt") is None
    app.host.wait_for(r"RuntimeError: failing after setting the outputs")


def test_http_body_properties_and_query_in_paths(app: App) -> None:
    order = {"customer": "ada", "id": "o-17", "total": 3}
    assert requests.post(app.url("orders"), json=order, timeout=10).text == "saved"
    assert json.loads(app.blob("orders/ada/o-17.json") or b"null") == order
    found = requests.get(app.url("query-blob?file=orders/ada/o-17.json"), timeout=10)
    assert found.status_code == 200
    body = found.json()
    assert body["name"] == f"{app.names['DATA_CONTAINER']}/orders/ada/o-17.json"
    assert json.loads(body["content"]) == order and body["length"] == len(body["content"])
    assert requests.get(app.url("query-blob?file=nothing"), timeout=10).status_code == 404


def test_queue_trigger_expressions_name_the_blob(app: App) -> None:
    container(app.connection, app.names["DATA_CONTAINER"]).upload_blob(
        "inbox/a.txt", b"from the queue", overwrite=True)
    app.send("NAME_QUEUE", "inbox/a.txt")
    app.send("NAME_QUEUE", "inbox/none.txt")
    reports = [json.loads(r) for r in
               wait_for_messages(queue(app.connection, app.names["OUTPUT_QUEUE"]), 2)]
    assert sorted(reports, key=lambda r: r["message"]) == [
        {"function": "blob_named_by_message", "message": "inbox/a.txt",
         "data": "from the queue"},
        {"function": "blob_named_by_message", "message": "inbox/none.txt", "data": None},
    ]
    container(app.connection, app.names["DATA_CONTAINER"]).upload_blob(
        "docs/b.txt", b"shout", overwrite=True)
    app.send("JSON_QUEUE", json.dumps({"folder": "docs", "file": "b.txt"}))
    app.host.wait_for(r"Executed 'Functions.blob_from_json_message' \(Succeeded")
    assert app.blob("docs/b.txt.upper") == b"SHOUT"


def test_queue_message_without_the_expression_fails_before_running(app: App) -> None:
    app.send("JSON_QUEUE", json.dumps({"folder": "docs"}))
    app.host.wait_for(r"No value for named parameter 'file'")
    poison = queue(app.connection, app.names["JSON_QUEUE"] + "-poison")
    assert json.loads(wait_for_messages(poison, 1)[0]) == {"folder": "docs"}


def test_table_rows_out_and_in(app: App) -> None:
    rows = [{"RowKey": "r1", "Score": 5, "Name": "low"},
            {"RowKey": "r2", "Score": 20, "Name": "mid"},
            {"RowKey": "r3", "Score": 30, "Name": "high"},
            {"RowKey": "r4", "Score": 40, "Name": "top"}]
    assert requests.post(app.url("rows/team"), json=rows, timeout=10).status_code == 201
    one = requests.get(app.url("rows/team/r2"), timeout=10).json()
    assert one["type"] == "str"
    assert {k: one["row"][k] for k in ("PartitionKey", "RowKey", "Score", "Name")} == {
        "PartitionKey": "team", "RowKey": "r2", "Score": 20, "Name": "mid"}
    assert one["row"]["Timestamp"].endswith("Z")
    missing = requests.get(app.url("rows/team/nobody"), timeout=10)
    assert (missing.status_code, missing.json()) == (404, {"missing": True})
    some = requests.get(app.url("rows/team?min=10"), timeout=10).json()
    assert [r["RowKey"] for r in some] == ["r2", "r3"]  # take=2 of the three that match
    # A single entity as an object; an existing row makes the write (and the call) fail.
    assert requests.post(app.url("rows/solo"), json={"RowKey": "x", "V": True},
                         timeout=10).status_code == 201
    assert requests.post(app.url("rows/solo"), json={"RowKey": "x", "V": False},
                         timeout=10).status_code == 500
    assert requests.get(app.url("rows/solo/x"), timeout=10).json()["row"]["V"] is True


def test_sdk_types_come_from_the_blob_extension(app: App) -> None:
    container(app.connection, app.names["DATA_CONTAINER"]).upload_blob(
        "sdk.txt", b"through the SDK", overwrite=True)
    body = requests.get(app.url("sdk/sdk.txt"), timeout=10).json()
    assert body["client"] == "BlobClient"
    assert body["content"] == body["stream"] == "through the SDK"
    assert "sdk.txt" in body["container"]


def test_timer_retry_policy_runs_again_with_retry_context(app: App) -> None:
    (report,) = wait_for_messages(queue(app.connection, app.names["RETRY_QUEUE"]), 1)
    assert json.loads(report) == {"attempts": 3, "retry_count": 2, "max_retry_count": 2}
    app.host.wait_for(r"Waiting for `00:00:01` before retrying function execution\. Next "
                      r"attempt: '2'\. Max retry count: '2'\.")
    assert app.host.output.count("Executed 'Functions.flaky_timer' (Failed") == 2


def test_startup_lines_name_what_is_not_served(app: App) -> None:
    output = app.host.output
    assert ("Function 'to_cosmos': this host cannot serve its binding(s) 'doc' (cosmosDB, out)"
            in output)
    assert ("Function 'queue_with_retry': its retry policy is not applied to queueTrigger"
            in output)
    response = requests.post(app.url("cosmos"), data="{}", timeout=10)
    assert response.status_code == 500
    app.host.wait_for(r"function 'to_cosmos' was not run: this host cannot serve")


def test_queue_messages_are_base64_as_the_host_writes_them(app: App) -> None:
    """Table and blob writes above used the same host; the output queue kept Base64 bodies."""
    client = queue(app.connection, app.names["OUTPUT_QUEUE"])
    app.send("NAME_QUEUE", "inbox/a.txt")
    (message,) = wait_for_messages(client, 1, decode=False)
    assert json.loads(base64.b64decode(message))["data"] == "from the queue"
