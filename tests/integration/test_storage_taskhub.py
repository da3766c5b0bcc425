"""Task hub provisioning on Azurite, deletion, and the error for an unreachable endpoint."""

from __future__ import annotations

import socket
import time

import pytest
from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from durable.errors import StorageUnavailableError
from durable.storage import TaskHub, TaskHubSettings
from tests.support.events import numbered_events

pytestmark = pytest.mark.azurite


async def _existing(connection_string: str, hub_name: str) -> tuple[set[str], set[str], set[str]]:
    prefix = hub_name.lower()
    async with QueueServiceClient.from_connection_string(connection_string) as qs:
        queues = {q.name async for q in qs.list_queues(name_starts_with=prefix)}
    async with TableServiceClient.from_connection_string(connection_string) as ts:
        tables = {t.name async for t in ts.list_tables() if t.name.startswith(hub_name)}
    async with BlobServiceClient.from_connection_string(connection_string) as bs:
        containers = {c.name async for c in bs.list_containers(name_starts_with=prefix)}
    return queues, tables, containers


async def test_create_is_idempotent_and_uses_durable_functions_names(
    connection_string: str, hub_name: str
) -> None:
    settings = TaskHubSettings(
        hub_name=hub_name, connection_string=connection_string, partition_count=3
    )
    async with TaskHub(settings) as hub:
        await hub.create_if_not_exists()
        first = hub.request_counts
        assert sum(first.values()) == 7  # 3 control queues, workitems, 2 tables, 1 container
        await hub.create_if_not_exists()
        assert hub.request_counts == first  # cached for the process
        async with TaskHub(settings) as other:  # another process: everything already exists
            await other.create_if_not_exists()
        try:
            low = hub_name.lower()
            assert await _existing(connection_string, hub_name) == (
                {f"{low}-control-00", f"{low}-control-01", f"{low}-control-02", f"{low}-workitems"},
                {f"{hub_name}History", f"{hub_name}Instances"},
                {f"{low}-largemessages"},
            )
        finally:
            await hub.delete()
        assert await _existing(connection_string, hub_name) == (set(), set(), set())


async def test_recreate_right_after_delete(connection_string: str, hub_name: str) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with TaskHub(settings) as hub:
        await hub.create_if_not_exists()
        await hub.history.commit("i", "e", numbered_events(3), None, 0)
        await hub.delete()
        await hub.create_if_not_exists()
        try:
            assert (await hub.history.load_history("i")).events == []
        finally:
            await hub.delete()


async def test_request_counts_by_kind(connection_string: str, hub_name: str) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with TaskHub(settings) as hub:
        await hub.create_if_not_exists()
        try:
            hub.reset_request_counts()
            etag = await hub.history.commit("i", "e", numbered_events(3), None, 0)
            await hub.history.load_history("i")
            assert await hub.history.read_etag("i") == etag
            await hub.instances.get("i")
            assert hub.request_counts == {"table.batch": 1, "table.query": 1, "table.get": 2}
        finally:
            await hub.delete()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_endpoint_names_url_and_hints_azurite() -> None:
    port = _closed_port()
    cs = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        f"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    async with TaskHub(TaskHubSettings(hub_name="Unreachable", connection_string=cs)) as hub:
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError) as error:
            await hub.create_if_not_exists()
        assert f"http://127.0.0.1:{port}/devstoreaccount1" in str(error.value)
        assert "Azurite" in str(error.value)
        with pytest.raises(StorageUnavailableError, match=f"127.0.0.1:{port}"):
            await hub.history.load_history("x")
        with pytest.raises(StorageUnavailableError, match="Azurite"):
            await hub.queues.receive(hub.queues.control_queue_names[0])
        assert time.monotonic() - started < 20
