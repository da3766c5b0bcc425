"""Blob triggers through running hosts (tests/apps/blob_app): the parameter types, path
patterns, a blob written by an output binding triggering the next function, the poison path
after five failures, and each blob version running once across a restart and with two hosts
sharing the receipts.

The hosts scan every 0.5 s (EMULATOR_BLOB_SCAN_SECONDS); containers and queues are unique
to this run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from azure.storage.blob import BlobServiceClient

from tests.e2e.blob_helpers import Mailbox, container, delete_containers, poison_messages
from tests.e2e.conftest import HostProcess, running_host, unique

pytestmark = pytest.mark.azurite
SCAN = {"EMULATOR_BLOB_SCAN_SECONDS": "0.5"}


@dataclass
class BlobApp:
    connection: str
    names: dict[str, str]
    mailbox: Mailbox

    def upload(self, name: str, data: bytes | str, where: str = "IN_CONTAINER") -> str:
        blob = container(self.connection, self.names[where]).upload_blob(name, data,
                                                                         overwrite=True)
        return str(blob.get_blob_properties().etag)


@pytest.fixture
def blob_app(azurite: str) -> Iterator[BlobApp]:
    names = {"IN_CONTAINER": unique("in"), "OUT_CONTAINER": unique("out"),
             "OUTPUT_QUEUE": unique("report")}
    app = BlobApp(azurite, names, Mailbox(azurite, names["OUTPUT_QUEUE"]))
    yield app
    app.mailbox.delete()
    delete_containers(azurite, names["IN_CONTAINER"], names["OUT_CONTAINER"])


def host(app: BlobApp, *extra: str) -> HostProcess:
    return HostProcess("blob_app", {**app.names, **SCAN}, *extra)


def test_types_patterns_and_a_chained_output(blob_app: BlobApp) -> None:
    with running_host("blob_app", {**blob_app.names, **SCAN}) as process:
        assert "\ton_text_stream: blobTrigger" in process.output
        etag = blob_app.upload("notes/hello.txt", "hello blobs")
        blob_app.upload("raw/data.bin", b"\x00\x01\x02abc")
        blob_app.upload("greeting.str", "grüße")
        mail = blob_app.mailbox
        (text,) = mail.wait(1, mail.of("on_text_stream"))
        container_name = blob_app.names["IN_CONTAINER"]
        assert text["name"] == f"{container_name}/notes/hello.txt"
        assert text["length"] == len("hello blobs") and text["content"] == "hello blobs"
        assert text["uri"].endswith(f"/{container_name}/notes/hello.txt")
        assert text["etag"] == etag
        assert mail.wait(1, mail.of("on_bytes")) == [
            {"function": "on_bytes", "type": "bytes", "size": 6}]
        assert mail.wait(1, mail.of("on_str")) == [
            {"function": "on_str", "type": "str", "text": "grüße"}]
        # on_bytes wrote raw-data.copy through its output binding; that triggers on_copy.
        (copied,) = mail.wait(1, mail.of("on_copy"))
        assert copied == {"function": "on_copy", "content": "cba\x02\x01\x00",
                          "name": f"{blob_app.names['OUT_CONTAINER']}/raw-data.copy"}
        process.wait_for(r"Executing 'Functions.on_text_stream' \(Reason='New blob detected"
                         rf"\(LogsAndContainerScan\): {container_name}/notes/hello.txt'")
        # A changed blob is a new version: it runs again.
        blob_app.upload("notes/hello.txt", "hello again")
        mail.wait(1, mail.of("on_text_stream", content="hello again"))
        assert len(mail.wait(1, mail.of("on_text_stream"))) == 2


def test_failing_blob_runs_five_times_then_goes_to_poison(blob_app: BlobApp) -> None:
    with running_host("blob_app", {**blob_app.names, **SCAN}) as process:
        etag = blob_app.upload("fail-report", "bad")
        (poison,) = poison_messages(blob_app.connection, blob_app.names["IN_CONTAINER"], 1)
        assert poison == {"Type": "BlobTrigger", "FunctionId": "Host.Functions.always_fails",
                          "BlobType": "BlockBlob",
                          "ContainerName": blob_app.names["IN_CONTAINER"],
                          "BlobName": "fail-report", "ETag": etag}
        process.wait_for(r"Message has reached MaxDequeueCount of 5\. Moving message to queue "
                         r"'webjobs-blobtrigger-poison'")
        assert process.output.count("Executed 'Functions.always_fails' (Failed") == 5


def test_receipts_keep_a_blob_to_one_run_across_a_restart(blob_app: BlobApp) -> None:
    with running_host("blob_app", {**blob_app.names, **SCAN}):
        blob_app.upload("before.txt", "first")
        blob_app.mailbox.wait(1, blob_app.mailbox.of("on_text_stream", content="first"))
    # Without scan info the restarted host looks at every blob again: receipts alone decide.
    hosts = BlobServiceClient.from_connection_string(blob_app.connection).get_container_client(
        "azure-webjobs-hosts")
    for item in hosts.list_blobs(name_starts_with="blobscaninfo/"):
        if f"/{blob_app.names['IN_CONTAINER']}/" in item.name:
            hosts.delete_blob(item.name)
    with running_host("blob_app", {**blob_app.names, **SCAN}) as process:
        blob_app.upload("after.txt", "second")
        blob_app.mailbox.wait(1, blob_app.mailbox.of("on_text_stream", content="second"))
        assert "before.txt" not in process.output
    runs = blob_app.mailbox.wait(2, blob_app.mailbox.of("on_text_stream"))
    assert sorted(r["content"] for r in runs) == ["first", "second"]


def test_two_hosts_run_each_blob_once(blob_app: BlobApp) -> None:
    first, second = host(blob_app, "--verbose"), host(blob_app, "--verbose")
    try:
        first.wait_ready()
        second.wait_ready()
        for i in range(12):
            blob_app.upload(f"shared-{i:02d}.txt", f"blob {i}")
        runs = blob_app.mailbox.wait(12, blob_app.mailbox.of("on_text_stream"), timeout=60)
        # A last blob, queued after the others: when it has run, any duplicate has too.
        blob_app.upload("zz-last.txt", "last")
        blob_app.mailbox.wait(1, blob_app.mailbox.of("on_text_stream", content="last"))
        runs = blob_app.mailbox.wait(13, blob_app.mailbox.of("on_text_stream"))
        assert sorted(r["content"] for r in runs) == sorted(
            [f"blob {i}" for i in range(12)] + ["last"])
        for process in (first, second):
            process.wait_for(rf"Poll for blobs in container '{blob_app.names['IN_CONTAINER']}'")
    finally:
        for process in (first, second):
            process.stop()

