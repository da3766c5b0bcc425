"""`python -m emulator durable ...`: each command against Azurite, mostly in-process (the
command's async body on the test's loop, while a pump runs the orchestrations), and through
a real subprocess to check the wiring."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from emulator import durable_cli
from tests.integration.test_client_apps import Env, running, wait_status

pytestmark = pytest.mark.azurite

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, hub_name: str, connection_string: str, capsys: Any) -> None:
        self.common = ["--task-hub-name", hub_name, "--connection-string", connection_string]
        self.capsys = capsys

    async def run(self, *argv: str, common: bool = True) -> tuple[int, Any, str]:
        """Exit status, parsed JSON output (or the text with --table), and stderr."""
        args = durable_cli.build_parser().parse_args([*argv, *(self.common if common else [])])
        code = await durable_cli.run_async(args)
        out, err = self.capsys.readouterr()
        parsed = json.loads(out) if code == 0 and "--table" not in argv else out
        return code, parsed, err

    async def ok(self, *argv: str) -> Any:
        code, out, err = await self.run(*argv)
        assert code == 0, err
        return out

    async def fails(self, *argv: str) -> str:
        code, _, err = await self.run(*argv)
        assert code == 1 and err.startswith("Error: "), err
        return err


@pytest.fixture
def cli(hub_name: str, connection_string: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(hub_name, connection_string, capsys)


async def test_start_status_events_history(
    cli: Cli, hub_name: str, connection_string: str, tmp_path: Path
) -> None:
    async with running(hub_name, connection_string) as env:
        started = await cli.ok("start-new", "--function-name", "cl_wait_event",
                               "--input", '{"n": 1}', "--id", "cli-1")
        assert started["id"] == "cli-1"
        await wait_status(env.client, "cli-1", (S.Running,))
        status = await cli.ok("get-runtime-status", "--id", "cli-1", "--show-input")
        assert status["runtimeStatus"] == "Running" and status["input"] == {"n": 1}
        assert "output" not in status
        assert "already exists" in await cli.fails("start-new", "--function-name", "cl_hello",
                                                   "--id", "cli-1")
        data = tmp_path / "event.json"
        data.write_text('{"approved": true}')
        raised = await cli.ok("raise-event", "--id", "cli-1", "--event-name", "go",
                              "--event-data", f"@{data}")
        assert "go" in raised["message"]
        await wait_status(env.client, "cli-1")
        done = await cli.ok("get-runtime-status", "--id", "cli-1", "--show-output")
        assert done["output"] == {"got": {"approved": True}, "input": {"n": 1}}
        assert "input" not in done
        history = await cli.ok("get-history", "--id", "cli-1")
        kinds = [e["EventType"] for e in history]
        assert kinds[:2] == ["OrchestratorStarted", "ExecutionStarted"]
        assert "EventRaised" in kinds and "ExecutionCompleted" in kinds
        generated = await cli.ok("start-new", "--function-name", "cl_hello", "--input", "3")
        assert len(generated["id"]) == 32
        assert (await wait_status(env.client, generated["id"])).output == [3, "second"]

        assert "not valid JSON" in await cli.fails(
            "start-new", "--function-name", "cl_hello", "--input", "{oops")
        assert "cannot read" in await cli.fails(
            "start-new", "--function-name", "cl_hello", "--input", f"@{tmp_path / 'none.json'}")
        assert "nobody" in await cli.fails("get-runtime-status", "--id", "nobody")
        assert "nobody" in await cli.fails("get-history", "--id", "nobody")
        assert "Completed" in await cli.fails("raise-event", "--id", "cli-1",
                                              "--event-data", "1")


async def test_lifecycle_commands(cli: Cli, hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        iid = await env.client.start_new("cl_wait_event", "life-1")
        await wait_status(env.client, iid, (S.Running,))
        await cli.ok("suspend", "--id", iid, "--reason", "pause")
        await wait_status(env.client, iid, (S.Suspended,))
        assert "Suspended" in await cli.fails("suspend", "--id", iid)
        await cli.ok("resume", "--id", iid, "--reason", "go on")
        await wait_status(env.client, iid, (S.Running,))
        await cli.ok("terminate", "--id", iid, "--reason", "enough")
        st = await wait_status(env.client, iid)
        assert st.runtime_status is S.Terminated and st.output == "enough"
        assert "nothing to terminate" in await cli.fails("terminate", "--id", iid)
        assert "nothing to suspend" in await cli.fails("suspend", "--id", iid)
        assert "nothing to resume" in await cli.fails("resume", "--id", iid)
        assert "nobody" in await cli.fails("resume", "--id", "nobody")

        failing = await env.client.start_new("cl_flaky", "life-2", uuid.uuid4().hex)
        assert (await wait_status(env.client, failing)).runtime_status is S.Failed
        await cli.ok("rewind", "--id", failing, "--reason", "fixed")
        st = await wait_status(env.client, failing, (S.Completed,))
        assert st.output[0] == "before"
        assert "only Failed" in await cli.fails("rewind", "--id", failing)


async def _finished(env: Env, prefix: str, count: int) -> list[str]:
    ids = [await env.client.start_new("cl_hello", f"{prefix}-{i}", i) for i in range(count)]
    for iid in ids:
        await wait_status(env.client, iid)
    return ids


async def test_get_instances_and_purge(cli: Cli, hub_name: str, connection_string: str) -> None:
    async with running(hub_name, connection_string) as env:
        done = await _finished(env, "gi", 3)
        waiting = await env.client.start_new("cl_wait_event", "gi-wait")
        await wait_status(env.client, waiting, (S.Running,))
        first = await cli.ok("get-instances", "--top", "3")
        assert len(first["instances"]) == 3 and first["continuationToken"]
        rest = await cli.ok("get-instances", "--top", "3",
                            "--continuation-token", first["continuationToken"])
        assert len(rest["instances"]) == 1 and rest["continuationToken"] is None
        ids = [s["instanceId"] for s in first["instances"] + rest["instances"]]
        assert sorted(ids) == sorted([*done, waiting])
        assert len((await cli.ok("get-instances"))["instances"]) == 4  # default top 10
        running_only = await cli.ok("get-instances", "--runtime-status", "running")
        assert [s["instanceId"] for s in running_only["instances"]] == [waiting]
        both = await cli.ok("get-instances", "--runtime-status", "Running", "Completed")
        assert len(both["instances"]) == 4
        later = await cli.ok("get-instances", "--created-after", "2999-01-01T00:00:00")
        assert later["instances"] == []
        earlier = await cli.ok("get-instances", "--created-before", "2000-01-01T00:00:00Z")
        assert earlier["instances"] == []
        table = await cli.ok("get-instances", "--table", "--top", "2")
        assert table.splitlines()[0].split()[:3] == ["name", "instanceId", "runtimeStatus"]
        assert "Continuation token:" in table
        assert "'sleeping'" in await cli.fails("get-instances", "--runtime-status", "sleeping")

        assert await cli.ok("purge-history", "--id", done[0]) == {"instancesDeleted": 1}
        assert done[0] in await cli.fails("purge-history", "--id", done[0])
        assert "not both" in await cli.fails("purge-history", "--id", done[1],
                                             "--runtime-status", "completed")
        purged = await cli.ok("purge-history", "--runtime-status", "completed",
                              "--created-after", "2000-01-01T00:00:00")
        assert purged == {"instancesDeleted": 2}
        assert [s.instance_id for s in await env.client.get_status_all()] == [waiting]


async def test_delete_task_hub(cli: Cli, hub_name: str, connection_string: str) -> None:
    hub = TaskHub(TaskHubSettings(hub_name=hub_name, connection_string=connection_string))
    try:
        started = await cli.ok("start-new", "--function-name", "anything", "--id", "x")
        assert started["id"] == "x"
        listed = await cli.ok("get-instances")
        assert [s["runtimeStatus"] for s in listed["instances"]] == ["Pending"]
        gone = await cli.ok("delete-task-hub")
        assert gone["taskHub"] == hub_name
        assert "does not exist" in await cli.fails("get-instances")
    finally:
        await hub.delete()
        await hub.close()


async def test_settings_come_from_the_app_folder(
    cli: Cli, hub_name: str, connection_string: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MyStorage", raising=False)
    host = {"version": "2.0", "extensions": {"durableTask": {
        "hubName": hub_name, "storageProvider": {"connectionName": "MyStorage"}}}}
    (tmp_path / "host.json").write_text(json.dumps(host))
    root = ["--script-root", str(tmp_path)]
    code, _, err = await cli.run("get-instances", *root, common=False)
    assert code == 1 and "'MyStorage'" in err
    local = {"IsEncrypted": False, "Values": {"MyStorage": connection_string}}
    (tmp_path / "local.settings.json").write_text(json.dumps(local))
    async with running(hub_name, connection_string) as env:
        await _finished(env, "app", 1)
        code, out, err = await cli.run("get-instances", *root, common=False)
        assert code == 0, err
        assert [s["instanceId"] for s in out["instances"]] == ["app-0"]
        code, out, err = await cli.run("get-instances", *root, "--task-hub-name", "otherhub1",
                                       common=False)
        assert code == 1 and "otherhub1" in err


async def _subprocess(*argv: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "durable", *argv, cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_wired_into_the_emulator_command_line(
    cli: Cli, hub_name: str, connection_string: str
) -> None:
    async with running(hub_name, connection_string) as env:
        code, out, err = await _subprocess(
            "start-new", "--function-name", "cl_hello", "--input", '"sub"', "--id", "sub-1",
            *cli.common)
        assert code == 0, err
        assert json.loads(out)["id"] == "sub-1"
        await wait_status(env.client, "sub-1")
        code, out, err = await _subprocess("get-runtime-status", "--id", "sub-1",
                                           "--show-output", "--table", *cli.common)
        assert code == 0, err
        assert "runtimeStatus: Completed" in out and 'output: ["sub", "second"]' in out
        code, out, err = await _subprocess("get-runtime-status", "--id", "nobody", *cli.common)
        assert code == 1 and "Error: No instance with id 'nobody'" in err
        assert "Traceback" not in err
