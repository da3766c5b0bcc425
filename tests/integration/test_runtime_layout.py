"""What a real orchestration leaves in storage, read with the raw SDKs: the task hub layout
of Durable Functions' Azure Storage provider (names, History keys, sentinel, Instances)."""

from __future__ import annotations

import json

from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from durable.storage.settings import TaskHubSettings
from tests.support.hubs import running_hub, wait_for_status


async def test_hello_sequence_layout(connection_string: str) -> None:
    hub_name = "LayoutHub" + __import__("uuid").uuid4().hex[:8]
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        iid = await r.client.start_new("hello_sequence", "layout-1", {"trip": 1})
        assert iid == "layout-1"
        await wait_for_status(r.client, iid)
        lower = hub_name.lower()
        async with QueueServiceClient.from_connection_string(connection_string) as qs:
            queues = {q.name async for q in qs.list_queues(name_starts_with=lower)}
        assert queues == {f"{lower}-control-0{i}" for i in range(4)} | {f"{lower}-workitems"}
        async with BlobServiceClient.from_connection_string(connection_string) as bs:
            containers = {c.name async for c in bs.list_containers(name_starts_with=lower)}
        assert f"{lower}-largemessages" in containers
        async with TableServiceClient.from_connection_string(connection_string) as ts:
            tables = {t.name async for t in ts.list_tables()}
            assert {f"{hub_name}History", f"{hub_name}Instances"} <= tables
            history = ts.get_table_client(f"{hub_name}History")
            rows = [e async for e in history.query_entities(f"PartitionKey eq '{iid}'")]
            instances = ts.get_table_client(f"{hub_name}Instances")
            row = await instances.get_entity(iid, "")
    events = sorted((e for e in rows if e["RowKey"] != "sentinel"), key=lambda e: e["RowKey"])
    assert [e["RowKey"] for e in events] == [f"{i:016X}" for i in range(len(events))]
    kinds = [e["EventType"] for e in events]
    assert kinds[:4] == ["OrchestratorStarted", "ExecutionStarted", "TaskScheduled",
                         "OrchestratorCompleted"]
    assert kinds.count("TaskCompleted") == 3 and "ExecutionCompleted" in kinds
    exec_id = events[1]["ExecutionId"]
    assert all(e["ExecutionId"] == exec_id for e in events)
    assert "_Timestamp" in events[0]
    scheduled = [e for e in events if e["EventType"] == "TaskScheduled"]
    assert [e["EventId"] for e in scheduled] == [0, 1, 2]
    assert scheduled[0]["Name"] == "say_hello"
    sentinel = next(e for e in rows if e["RowKey"] == "sentinel")
    assert sentinel["ExecutionId"] == exec_id
    assert row["RuntimeStatus"] == "Completed"
    assert row["Name"] == "hello_sequence" and row["ExecutionId"] == exec_id
    assert json.loads(row["Input"]) == {"trip": 1}
    assert json.loads(row["Output"]) == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    for column in ("CreatedTime", "LastUpdatedTime", "CompletedTime", "TaskHubName"):
        assert column in row, column
