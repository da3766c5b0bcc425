"""`durable replay-check` against Azurite: instances started by one version of an app are
replayed against another, through the real command line, which must write nothing."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from durable.app.root import process
from durable.client import DurableOrchestrationClient
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.core.versioning import VersionMatchStrategy
from durable.runtime.worker import DurableWorker
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from durable.testing import replay
from tests.support.hubs import wait_for_status
from tests.support.pump import QueuePump

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"


def _load_fixture_orchestrators() -> Any:
    """The fixture app's blueprint, registered in this process so a worker can run it."""
    path = APPS / "replay_app" / "replay_orchestrators.py"
    spec = importlib.util.spec_from_file_location("replay_check_fixture_orchestrators", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURE = _load_fixture_orchestrators()


class Hub:
    """A task hub filled by a worker that is then stopped, so that only the check runs."""

    def __init__(self, settings: TaskHubSettings, hub: TaskHub) -> None:
        self.settings = settings
        self.hub = hub
        self.client = DurableOrchestrationClient(settings, hub, functions=process.registry)

    def check(
        self, app: str, *extra: str, settings: dict[str, str] | None = None
    ) -> tuple[int, Any, str]:
        """Run `python -m emulator durable replay-check` on a fixture app (with extra app
        `settings` in its environment): exit status, the parsed --json output (or the text
        without it) and stderr."""
        argv = [sys.executable, "-m", "emulator", "durable", "replay-check",
                "--script-root", str(APPS / app), "--task-hub-name", self.settings.hub_name,
                "--connection", self.settings.connection_string, *extra]
        env = {**os.environ, "PYTHONPATH": str(ROOT), **(settings or {})}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env,
                              cwd=ROOT, check=False)
        out = json.loads(done.stdout) if "--json" in extra and done.stdout else done.stdout
        return done.returncode, out, done.stderr


@asynccontextmanager
async def filled_hub(
    connection_string: str, hub_name: str, fill: Callable[[Hub], Any]
) -> AsyncIterator[Hub]:
    """A hub where `fill` starts instances while a worker runs; the worker is closed before
    the test goes on, and the hub deleted afterwards. The worker runs every version
    (versionMatchStrategy None), so instances of any version reach their waits."""
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string,
                               version_match_strategy=VersionMatchStrategy.NONE)
    hub = TaskHub(settings)
    await hub.create_if_not_exists()
    try:
        worker = DurableWorker(settings, TaskHub(settings), process.registry)
        async with QueuePump(worker):
            await fill(Hub(settings, worker.hub))
        await worker.close()
        yield Hub(settings, hub)
    finally:
        await hub.delete()
        await hub.close()


async def wait_all_waiting(client: DurableOrchestrationClient, ids: list[str]) -> None:
    """Poll until every instance has reached its wait (custom status set by the episode)."""
    deadline = time.monotonic() + 90
    pending = set(ids)
    while pending:
        statuses = await asyncio.gather(*(client.get_status(i) for i in sorted(pending)))
        pending -= {s.instance_id for s in statuses if s.custom_status == "waiting"}
        assert time.monotonic() < deadline, f"{len(pending)} instances never waited"
        if pending:
            await asyncio.sleep(0.2)


# --- what the hub holds, to prove the check wrote nothing --------------------------------


async def snapshot(settings: TaskHubSettings) -> dict[str, Any]:
    """Every row's ETag, every queue's visible messages and count, every blob's ETag, and
    which tables, queues and containers exist."""
    cs, hub = settings.connection_string, settings.hub_name
    state: dict[str, Any] = {}
    async with TableServiceClient.from_connection_string(cs) as tables:
        state["tables"] = sorted([t.name async for t in tables.list_tables()
                                  if t.name.lower().startswith(hub.lower())])
        for name in state["tables"]:
            rows = tables.get_table_client(name).list_entities()
            state[name] = sorted([(e["PartitionKey"], e["RowKey"], e.metadata["etag"])
                                  async for e in rows])
    async with QueueServiceClient.from_connection_string(cs) as queues:
        names = sorted([q.name async for q in queues.list_queues(
            name_starts_with=hub.lower())])
        state["queues"] = names
        for name in names:
            queue = queues.get_queue_client(name)
            count = (await queue.get_queue_properties()).approximate_message_count
            peeked = await queue.peek_messages(max_messages=32)
            state[name] = (count, sorted((m.id, m.content, m.dequeue_count) for m in peeked))
    async with BlobServiceClient.from_connection_string(cs) as blobs:
        containers = sorted([c.name async for c in blobs.list_containers(
            name_starts_with=hub.lower())])
        state["containers"] = containers
        for name in containers:
            listed = blobs.get_container_client(name).list_blobs()
            state[name] = sorted([(b.name, b.etag) async for b in listed])
    return state


async def settled(settings: TaskHubSettings) -> dict[str, Any]:
    """The hub's state once it stops changing (the closed worker's last writes landed)."""
    deadline = time.monotonic() + 30
    previous = await snapshot(settings)
    while True:
        await asyncio.sleep(0.5)
        current = await snapshot(settings)
        if current == previous:
            return current
        assert time.monotonic() < deadline, "the hub kept changing with no worker running"
        previous = current


# --- 50 running instances ------------------------------------------------------------------


async def fill_fifty(h: Hub) -> None:
    kinds = ["rc_approval"] * 44 + ["rc_reminder"] * 4 + ["rc_legacy"] * 2
    ids = [await h.client.start_new(k, f"{k}-{i:02d}", {"n": i}) for i, k in enumerate(kinds)]
    await wait_all_waiting(h.client, ids)


async def test_fifty_instances_pass_unchanged_code_and_the_changed_one_is_found(
    connection_string: str, hub_name: str
) -> None:
    async with filled_hub(connection_string, hub_name, fill_fifty) as h:
        # Two more that no worker has picked up: their start messages wait in the queues.
        for i in range(2):
            await h.client.start_new("rc_approval", f"pending-{i}")
        before = await settled(h.settings)
        assert sum(before[q][0] for q in before["queues"]) >= 6  # 2 starts + 4 timers

        code, unchanged, err = h.check("replay_app", "--json")
        assert code == 0, err
        verdicts = {c["instance_id"]: c["verdict"] for c in unchanged["instances"]}
        assert len(verdicts) == 52 and unchanged["failing"] == 0
        assert sorted(i for i, v in verdicts.items() if v == "NOT-STARTED") == [
            "pending-0", "pending-1"]
        assert all(v == "OK" for i, v in verdicts.items() if not i.startswith("pending"))

        code, text, err = h.check("replay_app_changed")
        assert code == 1, err
        failing = [line for line in text.splitlines() if line.startswith("NON-DETERMINISTIC")]
        assert sorted(line.split()[1] for line in failing) == [
            f"rc_reminder-{i:02d}" for i in range(44, 48)]
        assert text.count("\nOK ") == 46
        # The message a host would fail the instance with: expected, found, the source line.
        assert "expected 'TaskScheduled rc_quote' at sequence 0" in text
        assert "rc_fetch_customer" in text
        assert "replay_app_changed/function_app.py" in text and "in rc_reminder" in text
        assert "Summary: 52 checked: 46 OK, 2 NOT-STARTED, 4 NON-DETERMINISTIC." in text

        # Read-only: no row, message, blob, queue or table changed, none appeared.
        assert await snapshot(h.settings) == before


# --- missing orchestrators, versions, filters, export ---------------------------------------


async def fill_mixed(h: Hub) -> None:
    await h.client.start_new("rc_approval", "newer-version", version="2.0")
    ids = [await h.client.start_new("rc_legacy", f"legacy-{i}") for i in range(2)]
    ids += [await h.client.start_new("rc_approval", "approval-1", {"n": 1}),
            await h.client.start_new("rc_approval", "approval-done", {"n": 2}), "newer-version"]
    await wait_all_waiting(h.client, ids)
    await h.client.raise_event("approval-done", "approve", True)
    await wait_for_status(h.client, "approval-done")


async def test_missing_orchestrators_and_versions_are_reported_apart(
    connection_string: str, hub_name: str
) -> None:
    async with filled_hub(connection_string, hub_name, fill_mixed) as h:
        code, text, err = h.check("replay_app_v2")
        assert code == 1, err
        lines = text.splitlines()
        missing = lines.index("Orchestrators that no longer exist in the code:")
        assert lines[missing + 1] == "  'rc_legacy': 2 instance(s): legacy-0, legacy-1"
        versions = lines.index("Instances whose version this deployment would not take:")
        assert lines[versions + 1] == (
            "  newer-version (rc_approval): The orchestration version '2.0' is newer than this "
            "host's version '1.0' (host.json defaultVersion, versionMatchStrategy "
            "CurrentOrOlder). Run it on a host whose defaultVersion is at least as new. A host "
            "with this host.json would not run it (versionFailureStrategy Reject): its "
            "messages stay queued for a host that can take them.")
        assert any(line.startswith("OK") and "approval-1" in line for line in lines)
        assert "approval-done" not in text  # finished: left out unless --all
        assert "1 OK, 2 MISSING-ORCHESTRATOR, 1 VERSION-REJECTED" in text

        code, everything, _ = h.check("replay_app_v2", "--all", "--json")
        done = [c for c in everything["instances"] if c["instance_id"] == "approval-done"]
        assert done and done[0]["verdict"] == "OK" and done[0]["message"] == "replays to Completed"

        code, named, _ = h.check("replay_app_v2", "--name", "RC_APPROVAL", "--json")
        assert code == 1 and {c["instance_id"] for c in named["instances"]} == {
            "approval-1", "newer-version"}
        code, prefixed, _ = h.check("replay_app_v2", "--prefix", "approval", "--json")
        assert code == 0 and [c["instance_id"] for c in prefixed["instances"]] == ["approval-1"]
        code, completed, _ = h.check("replay_app_v2", "--status", "Completed", "--json")
        assert code == 0 and [c["instance_id"] for c in completed["instances"]] == [
            "approval-done"]
        code, recent, _ = h.check("replay_app", "--created-from", "2999-01-01", "--json")
        assert code == 0 and recent["instances"] == []
        code, _, err = h.check("replay_app", "--status", "Sleeping")
        assert code == 1 and "Unknown runtime status 'Sleeping'" in err


async def test_versions_are_judged_by_the_hosts_rules(
    connection_string: str, hub_name: str
) -> None:
    async with filled_hub(connection_string, hub_name, fill_mixed) as h:
        # A start no host has picked up yet is gated on the version it carries.
        await h.client.start_new("rc_approval", "queued-newer", version="3.0")
        await h.client.start_new("rc_approval", "queued-older", version="0.9")
        code, v2, err = h.check("replay_app_v2", "--json")
        assert code == 1, err
        verdicts = {c["instance_id"]: c["verdict"] for c in v2["instances"]}
        assert verdicts["queued-newer"] == "VERSION-REJECTED"
        assert verdicts["queued-older"] == "NOT-STARTED"

        # No defaultVersion: the host is the oldest version, so under CurrentOrOlder it does
        # not run instances that have a version; unversioned ones replay.
        code, oldest, err = h.check("replay_app", "--json")
        assert code == 1, err
        by_id = {c["instance_id"]: c for c in oldest["instances"]}
        rejected = sorted(i for i, c in by_id.items() if c["verdict"] == "VERSION-REJECTED")
        assert rejected == ["newer-version", "queued-newer", "queued-older"]
        assert "is newer than this host's version (none)" in by_id["newer-version"]["message"]
        assert by_id["newer-version"]["version"] == "2.0"
        assert {by_id[i]["verdict"] for i in ("legacy-0", "legacy-1", "approval-1")} == {"OK"}

        # App settings override host.json, as for the host: Fail changes what the host does,
        # None runs every version.
        fail = {"AzureFunctionsJobHost__extensions__durableTask__versionFailureStrategy": "Fail"}
        code, failing, _ = h.check("replay_app", "--json", settings=fail)
        assert code == 1
        message = {c["instance_id"]: c["message"] for c in failing["instances"]}["newer-version"]
        assert message.endswith("A host with this host.json would fail it with "
                                "VersionMismatchError (versionFailureStrategy Fail).")
        every = {"AzureFunctionsJobHost__extensions__durableTask__versionMatchStrategy": "None"}
        code, taken, err = h.check("replay_app", "--json", settings=every)
        assert code == 0, err
        assert taken["failing"] == 0
        assert {c["verdict"] for c in taken["instances"]} == {"OK", "NOT-STARTED"}

        # A strategy the host would refuse to start with is the same error here.
        bad = {"AzureFunctionsJobHost__extensions__durableTask__versionMatchStrategy": "Newest"}
        code, out, err = h.check("replay_app", settings=bad)
        assert code == 1 and out == ""
        assert "versionMatchStrategy must be one of None, Strict, CurrentOrOlder" in err


async def test_an_exported_history_replays_as_a_golden_file(
    connection_string: str, hub_name: str, tmp_path: Path
) -> None:
    async def fill(h: Hub) -> None:
        await h.client.start_new("rc_approval", "golden", {"n": 7})
        await wait_all_waiting(h.client, ["golden"])
        await h.client.raise_event("golden", "approve", True)
        await wait_for_status(h.client, "golden")

    async with filled_hub(connection_string, hub_name, fill) as h:
        exported = await h.client.get_history_json("golden")
        argv = [sys.executable, "-m", "emulator", "durable", "get-history", "--id", "golden",
                "--json", "--task-hub-name", h.settings.hub_name,
                "--connection-string", h.settings.connection_string]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == exported
        assert {e["EventType"] for e in exported} >= {0, 4, 5, 15, 1}
        golden = tmp_path / "golden.json"
        golden.write_text(done.stdout, encoding="utf-8")
    outcome = replay(golden, FIXTURE.rc_approval)
    assert outcome.status is S.Completed
    assert json.loads(outcome.output or "null") == {"quote": 12.5, "approved": True}


async def test_a_missing_hub_or_a_broken_app_is_an_error_and_nothing_is_created(
    connection_string: str, hub_name: str
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    h = Hub(settings, TaskHub(settings))
    try:
        code, out, err = h.check("replay_app")
        assert code == 1 and out == ""
        assert f"Error: Task hub '{hub_name}' does not exist" in err
        code, _, err = h.check("broken_syntax")
        assert code == 1 and err.startswith("Error: Failed to load") and "SyntaxError" in err
        state = await snapshot(settings)
        assert (state["tables"], state["queues"], state["containers"]) == ([], [], [])
    finally:
        await h.hub.close()
