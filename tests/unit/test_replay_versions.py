"""replay-check's verdict on one instance, and its version rule being the host's: an
instance is VERSION-REJECTED exactly when the version gate of a host with that host.json
would not run it (Reject) or would fail it (Fail). How versions compare, and how host.json
is read, are tested in test_versioning.py."""

from __future__ import annotations

import itertools
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext
from durable.core import events as ev
from durable.core.history import HistoryEvent
from durable.core.messages import TaskMessage
from durable.core.registry import DurableFunction, DurableKind
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.runtime.planning import plan_orchestration
from durable.runtime.summary import summarize
from durable.runtime.version_gate import VersionGate
from durable.storage.interface import InstanceRecord
from durable.storage.settings import TaskHubSettings
from durable.testing import run_orchestrator
from emulator.replay_check import Verdict, check_instance, summary

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def gate_for(**durable_task: Any) -> VersionGate:
    """The gate of a host whose host.json has these `extensions.durableTask` settings."""
    host = {"version": "2.0", "extensions": {"durableTask": durable_task}}
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    return VersionGate.from_settings(TaskHubSettings.from_host_json(host, env))


def waiting(ctx: DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    return (yield ctx.call_activity("act", 1))


APP = {"orch": DurableFunction(DurableKind.ORCHESTRATOR, "orch", waiting, "ctx")}


def running_history(version: str | None) -> list[HistoryEvent]:
    """An instance of `version` that has scheduled its activity and waits for it."""
    return [
        ev.orchestrator_started(T0),
        ev.execution_started(T0, name="orch", instance_id="i1", execution_id="e1",
                             version=version),
        ev.task_scheduled(T0, event_id=0, name="act"),
        ev.orchestrator_completed(T0),
    ]


def record(version: str | None, status: S = S.Running) -> InstanceRecord:
    return InstanceRecord("i1", name="orch", runtime_status=status, version=version)


def host_gates(gate: VersionGate, history: list[HistoryEvent]) -> bool:
    """Whether the host's gate holds back or fails the instance's next episode (the answer
    to its activity), decided on the plan the host makes."""
    state = summarize(history)
    done = TaskMessage("m-done", "i1", ev.task_completed(T0, task_scheduled_id=0, result="1"),
                       "e1")
    plan = plan_orchestration("i1", state, [done])
    held_back = gate.gate("i1", state, plan) is not plan  # Reject: its messages sent back
    return held_back or gate.fault(state, plan) is not None


HOSTS = [
    dict(settings)
    for version, match, failure in itertools.product(
        [None, "1.0", "2.0"], ["CurrentOrOlder", "Strict", "None"], ["Reject", "Fail"]
    )
    for settings in [{"versionMatchStrategy": match, "versionFailureStrategy": failure,
                      **({"defaultVersion": version} if version else {})}]
]


@pytest.mark.parametrize("host", HOSTS, ids=lambda h: "-".join(map(str, h.values())))
@pytest.mark.parametrize("version", [None, "1.0", "2.0", "3.0", "beta"])
def test_rejected_exactly_when_the_hosts_gate_would_not_run_it(
    host: dict[str, str], version: str | None
) -> None:
    gate = gate_for(**host)
    history = running_history(version)
    check = check_instance(record(version), history, APP, gate)
    assert (check.verdict is Verdict.VERSION_REJECTED) == host_gates(gate, history)
    if check.verdict is not Verdict.VERSION_REJECTED:
        assert check.verdict is Verdict.OK and check.message == "replays to Running"


def test_a_host_without_default_version_is_the_oldest() -> None:
    gate = gate_for()
    unversioned = check_instance(record(None), running_history(None), APP, gate)
    assert unversioned.verdict is Verdict.OK
    check = check_instance(record("2.0"), running_history("2.0"), APP, gate)
    assert check.verdict is Verdict.VERSION_REJECTED and check.version == "2.0"
    assert check.message.startswith(
        "The orchestration version '2.0' is newer than this host's version (none) (host.json "
        "defaultVersion, versionMatchStrategy CurrentOrOlder).")
    assert "would not run it (versionFailureStrategy Reject)" in check.message
    assert "stay queued for a host that can take them" in check.message


def test_the_message_says_what_the_host_would_do_under_fail() -> None:
    gate = gate_for(defaultVersion="2.0", versionMatchStrategy="Strict",
                    versionFailureStrategy="Fail")
    check = check_instance(record("1.0"), running_history("1.0"), APP, gate)
    assert check.verdict is Verdict.VERSION_REJECTED
    assert "'1.0' does not match this host's version '2.0'" in check.message
    assert check.message.endswith(
        "A host with this host.json would fail it with VersionMismatchError "
        "(versionFailureStrategy Fail).")


def test_a_queued_start_is_gated_on_the_version_it_carries() -> None:
    gate = gate_for(defaultVersion="1.0")
    pending = check_instance(record("2.0", S.Pending), [], APP, gate)
    assert pending.verdict is Verdict.VERSION_REJECTED and "'2.0' is newer" in pending.message
    older = check_instance(record("0.9", S.Pending), [], APP, gate)
    assert older.verdict is Verdict.NOT_STARTED


def test_the_gate_comes_before_the_orchestrator_is_looked_up() -> None:
    # Under Reject the host never runs it; under Fail it fails with the version message.
    gate = gate_for(defaultVersion="1.0", versionFailureStrategy="Fail")
    check = check_instance(record("2.0"), running_history("2.0"), {}, gate)
    assert check.verdict is Verdict.VERSION_REJECTED
    taken = check_instance(record("1.0"), running_history("1.0"), {}, gate)
    assert taken.verdict is Verdict.MISSING_ORCHESTRATOR


def test_a_finished_instance_is_not_gated_but_replayed() -> None:
    run = run_orchestrator(waiting, name="orch", activities={"act": lambda v: v},
                           version="2.0")
    gate = gate_for(defaultVersion="1.0", versionMatchStrategy="Strict")
    assert not host_gates(gate, run.history)
    check = check_instance(record("2.0", S.Completed), run.history, APP, gate)
    assert check.verdict is Verdict.OK and check.message == "replays to Completed"


def changed(ctx: DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    return (yield ctx.call_activity("other_step", 1))


def test_the_verdict_on_one_instance() -> None:
    run = run_orchestrator(waiting, name="orch", activities={"act": lambda v: v})
    done = InstanceRecord("i-1", name="orch", runtime_status=S.Completed)
    gate = gate_for()
    ok = check_instance(done, run.history, APP, gate)
    assert ok.verdict is Verdict.OK and ok.message == "replays to Completed"
    app_changed = {"orch": DurableFunction(DurableKind.ORCHESTRATOR, "orch", changed, "ctx")}
    bad = check_instance(done, run.history, app_changed, gate)
    assert bad.verdict is Verdict.NON_DETERMINISTIC and "other_step" in bad.message
    gone = check_instance(done, run.history, {}, gate)
    assert gone.verdict is Verdict.MISSING_ORCHESTRATOR
    assert "no orchestrator 'orch'" in gone.message
    strict = gate_for(defaultVersion="2.0", versionMatchStrategy="Strict")
    rejected = check_instance(record(None), running_history(None), APP, strict)
    assert rejected.verdict is Verdict.VERSION_REJECTED
    pending = check_instance(InstanceRecord("i-2", name="orch"), [], APP, gate)
    assert pending.verdict is Verdict.NOT_STARTED
    line = summary([ok, bad, gone, rejected, pending])
    assert "5 checked" in line and "3 instance(s) would fail or not run" in line
    assert "1 NON-DETERMINISTIC" in line and "1 NOT-STARTED" in line
