"""Orchestration versioning without storage: comparison, host.json, the gate's decisions,
sub-orchestration versions in the replay engine, and the in-memory test runner."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from durable.core import events as ev
from durable.core.actions import CreateSubOrchestration
from durable.core.context import DurableOrchestrationContext
from durable.core.history import EventType, HistoryEvent, OrchestrationRuntimeStatus
from durable.core.messages import TaskMessage
from durable.core.replay import OrchestrationSession
from durable.core.versioning import (
    VersionFailureStrategy,
    VersionMatchStrategy,
    compare_versions,
    version_mismatch,
)
from durable.errors import SettingsError
from durable.runtime.planning import plan_orchestration
from durable.runtime.summary import summarize
from durable.runtime.version_gate import MAX_REJECT_DELAY, VersionGate, reject_delay
from durable.storage.settings import TaskHubSettings
from durable.testing import run_orchestrator

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Gen = Generator[Any, Any, Any]
M = VersionMatchStrategy


# --- comparison ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        (None, None, 0),
        ("", None, 0),
        (None, "", 0),
        (None, "1.0", -1),
        ("", "0.0", -1),
        ("1.0", None, 1),
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("1.10", "1.9", 1),  # numeric, not text
        ("1.0", "1.0.0", -1),  # a missing part is older than a present one
        ("1.0.0.0", "1.0.0", 1),
        ("2.0.0", "10.0.0", -1),
        ("1", "2", -1),  # one part does not parse as a version: compared as text
        ("10", "9", -1),  # ... so "10" < "9"
        ("v2", "V2", 0),  # case-insensitive
        ("alpha", "Beta", -1),
        ("1.0", "1.0-beta", -1),  # one parses, the other not: text
        ("2025-01-01", "2025-02-01", -1),
        ("1.0.0.0.0", "1.0.0.0", 1),  # five parts do not parse: text
    ],
)
def test_versions_compare_as_durable_functions_compares_them(
    a: str | None, b: str | None, order: int
) -> None:
    assert compare_versions(a, b) == order
    assert compare_versions(b, a) == -order


def test_none_strategy_runs_every_version() -> None:
    assert version_mismatch("9.0", "1.0", M.NONE) is None
    assert version_mismatch(None, "1.0", M.NONE) is None


def test_strict_runs_only_the_same_version_and_names_both() -> None:
    assert version_mismatch("1.0", "1.0", M.STRICT) is None
    assert version_mismatch("V1", "v1", M.STRICT) is None
    older = version_mismatch("1.0", "2.0", M.STRICT)
    assert older is not None and "'1.0'" in older and "'2.0'" in older and "Strict" in older
    assert version_mismatch(None, "2.0", M.STRICT) is not None
    assert version_mismatch("2.0", None, M.STRICT) is not None


def test_current_or_older_refuses_only_newer_versions() -> None:
    assert version_mismatch("1.0", "2.0", M.CURRENT_OR_OLDER) is None
    assert version_mismatch(None, "2.0", M.CURRENT_OR_OLDER) is None
    assert version_mismatch("2.0", "2.0", M.CURRENT_OR_OLDER) is None
    newer = version_mismatch("3.0", "2.0", M.CURRENT_OR_OLDER)
    assert newer is not None and "'3.0'" in newer and "'2.0'" in newer
    # A host without defaultVersion is the oldest: it runs only unversioned instances.
    unversioned_host = version_mismatch("1.0", None, M.CURRENT_OR_OLDER)
    assert unversioned_host is not None and "(none)" in unversioned_host


# --- host.json ----------------------------------------------------------------------------


def _settings(durable_task: dict[str, Any]) -> TaskHubSettings:
    host = {"version": "2.0", "extensions": {"durableTask": durable_task}}
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    return TaskHubSettings.from_host_json(host, env)


def test_host_json_defaults_are_durable_functions_defaults() -> None:
    s = _settings({})
    assert s.default_version is None
    assert s.version_match_strategy is M.CURRENT_OR_OLDER
    assert s.version_failure_strategy is VersionFailureStrategy.REJECT


def test_host_json_versioning_settings_are_read_case_insensitively() -> None:
    s = _settings({"defaultVersion": "2.0", "versionMatchStrategy": "strict",
                   "VersionFailureStrategy": "FAIL"})
    assert s.default_version == "2.0"
    assert s.version_match_strategy is M.STRICT
    assert s.version_failure_strategy is VersionFailureStrategy.FAIL
    assert _settings({"defaultVersion": None}).default_version is None
    assert _settings({"defaultVersion": ""}).default_version is None


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ({"defaultVersion": 2}, "defaultVersion must be a string"),
        ({"versionMatchStrategy": "Newest"}, "None, Strict, CurrentOrOlder"),
        ({"versionFailureStrategy": True}, "Reject, Fail"),
    ],
)
def test_bad_versioning_settings_are_settings_errors(
    setting: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(SettingsError, match=fragment):
        _settings(setting)


# --- the gate -----------------------------------------------------------------------------


def _start(version: str | None, iid: str = "i1") -> TaskMessage:
    started = ev.execution_started(T0, name="orch", instance_id=iid, execution_id="e1",
                                   version=version)
    return TaskMessage("m-start", iid, started, "e1")


def _history(version: str | None) -> list[HistoryEvent]:
    return [
        ev.orchestrator_started(T0),
        ev.execution_started(T0, name="orch", instance_id="i1", execution_id="e1",
                             version=version),
        ev.task_scheduled(T0, event_id=0, name="act"),
        ev.orchestrator_completed(T0),
    ]


def _completion() -> TaskMessage:
    return TaskMessage("m-done", "i1", ev.task_completed(T0, task_scheduled_id=0, result="1"),
                       "e1")


def test_gate_runs_a_matching_start_unchanged() -> None:
    gate = VersionGate("2.0", M.STRICT)
    summary = summarize([])
    plan = plan_orchestration("i1", summary, [_start("2.0")])
    assert gate.gate("i1", summary, plan) is plan
    assert gate.fault(summary, plan) is None


def test_reject_sends_the_messages_back_with_a_growing_delay() -> None:
    gate = VersionGate("2.0", M.STRICT, VersionFailureStrategy.REJECT)
    summary = summarize(_history("1.0"))
    delays = []
    for _ in range(4):
        plan = plan_orchestration("i1", summary, [_completion()])
        gated = gate.gate("i1", summary, plan)
        assert not gated.runs and gated.start is None and gated.apply == []
        assert [m.message_id for m in gated.defer] == ["m-done"]
        assert gated.notes and gated.notes[-1][0] == "warning"
        assert "'1.0'" in gated.notes[-1][1] and "'2.0'" in gated.notes[-1][1]
        delays.append(gated.defer_delay)
    assert delays == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    assert gate.fault(summary, plan) is None


def test_reject_counts_only_plans_made_on_read_history() -> None:
    gate = VersionGate("1.0", M.CURRENT_OR_OLDER)
    summary = summarize([])
    plan = plan_orchestration("i1", summary, [_start("2.0")])
    assumed = gate.gate("i1", summary, plan, verified=False)
    read = gate.gate("i1", summary, plan, verified=True)
    assert assumed.defer_delay == read.defer_delay == timedelta(seconds=1)
    assert [m.message_id for m in read.defer] == ["m-start"]
    # Only the plan acted on logs the rejection.
    assert assumed.notes == [] and len(read.notes) == 1


def test_a_run_forgets_earlier_rejections() -> None:
    gate = VersionGate("1.0", M.CURRENT_OR_OLDER)
    summary = summarize([])
    gate.gate("i1", summary, plan_orchestration("i1", summary, [_start("2.0")]))
    gate.gate("i1", summary, plan_orchestration("i1", summary, [_start("1.0")]))
    again = gate.gate("i1", summary, plan_orchestration("i1", summary, [_start("2.0")]))
    assert again.defer_delay == timedelta(seconds=1)


def test_reject_delay_is_capped() -> None:
    assert reject_delay(1) == timedelta(seconds=1)
    assert reject_delay(100) == MAX_REJECT_DELAY


def test_fail_runs_the_episode_with_a_fault_naming_both_versions() -> None:
    gate = VersionGate("1.0", M.CURRENT_OR_OLDER, VersionFailureStrategy.FAIL)
    summary = summarize(_history("3.0"))
    plan = plan_orchestration("i1", summary, [_completion()])
    assert gate.gate("i1", summary, plan) is plan
    fault = gate.fault(summary, plan)
    assert fault is not None and "'3.0'" in fault and "'1.0'" in fault


def test_gate_leaves_plans_that_run_nothing_alone() -> None:
    gate = VersionGate("1.0", M.STRICT, VersionFailureStrategy.FAIL)
    completed = ev.execution_completed(
        T0, event_id=1, status=OrchestrationRuntimeStatus.Completed, result="null"
    )
    finished = [*_history("2.0"), completed]
    summary = summarize(finished)
    plan = plan_orchestration("i1", summary, [_completion()])
    assert not plan.runs
    assert gate.gate("i1", summary, plan) is plan and gate.fault(summary, plan) is None


def test_none_strategy_never_gates() -> None:
    gate = VersionGate("1.0", M.NONE, VersionFailureStrategy.FAIL)
    summary = summarize([])
    plan = plan_orchestration("i1", summary, [_start("9.9")])
    assert gate.gate("i1", summary, plan) is plan and gate.fault(summary, plan) is None


# --- sub-orchestration versions in the engine ---------------------------------------------


def _parent(ctx: DurableOrchestrationContext) -> Gen:
    a = yield ctx.call_sub_orchestrator("child", None, "c1")
    b = yield ctx.call_sub_orchestrator("child", None, "c2", version="0.5")
    return [a, b]


def _first_actions(default_version: str | None) -> list[CreateSubOrchestration]:
    session = OrchestrationSession(_parent, "p", default_version=default_version)
    started = ev.execution_started(T0, name="parent", instance_id="p", execution_id="e",
                                   version="1.0")
    result = session.apply([started], T0)
    first = [a for a in result.actions if isinstance(a, CreateSubOrchestration)]
    done = ev.sub_orchestration_completed(T0, task_scheduled_id=0, result='"x"')
    second = session.apply([done], T0)
    return first + [a for a in second.actions if isinstance(a, CreateSubOrchestration)]


def test_children_get_the_explicit_version_else_the_hosts_default_not_the_parents() -> None:
    c1, c2 = _first_actions("2.0")
    assert (c1.instance_id, c1.version) == ("c1", "2.0")
    assert (c2.instance_id, c2.version) == ("c2", "0.5")
    c1, _ = _first_actions(None)
    assert c1.version is None


def test_a_child_version_is_recorded_in_history_and_is_no_determinism_fault() -> None:
    session = OrchestrationSession(_parent, "p", default_version="2.0")
    started = ev.execution_started(T0, name="parent", instance_id="p", execution_id="e")
    history = session.apply([started], T0).new_history
    created = [e for e in history if e.event_type is EventType.SubOrchestrationInstanceCreated]
    assert [e.version for e in created] == ["2.0"]
    # Replayed on a host with another defaultVersion, the code still matches its history.
    replay = OrchestrationSession(_parent, "p", history, default_version="3.0")
    done = ev.sub_orchestration_completed(T0, task_scheduled_id=0, result='"x"')
    again = replay.apply([done], T0)
    assert replay.fault is None
    assert [a.version for a in again.actions if isinstance(a, CreateSubOrchestration)] == ["0.5"]


def test_call_sub_orchestrator_refuses_a_version_that_is_not_text() -> None:
    def bad(ctx: DurableOrchestrationContext) -> Gen:
        yield ctx.call_sub_orchestrator("child", version=2)  # type: ignore[arg-type]

    run = run_orchestrator(bad, sub_orchestrators={"child": _child})
    assert not run.succeeded and "version must be a string" in str(run.output)


# --- durable.testing ----------------------------------------------------------------------


def _child(ctx: DurableOrchestrationContext) -> Gen:
    return ctx.version
    yield  # a generator


def _versioned(ctx: DurableOrchestrationContext) -> Gen:
    if ctx.version == "2.0":
        step = yield ctx.call_activity("new_step")
    else:
        step = yield ctx.call_activity("old_step")
    child = yield ctx.call_sub_orchestrator("child", None, "kid")
    return [ctx.version, step, child]


ACTIVITIES = {"old_step": lambda _: "old", "new_step": lambda _: "new"}


def test_runner_runs_each_version_branch() -> None:
    old = run_orchestrator(_versioned, activities=ACTIVITIES, sub_orchestrators={"child": _child},
                           version="1.0")
    assert old.output == ["1.0", "old", None]
    new = run_orchestrator(_versioned, activities=ACTIVITIES, sub_orchestrators={"child": _child},
                           default_version="2.0")
    assert new.output == ["2.0", "new", "2.0"]
    assert new.history[1].version == "2.0"
    both = run_orchestrator(_versioned, activities=ACTIVITIES, sub_orchestrators={"child": _child},
                            version="1.0", default_version="2.0")
    assert both.output == ["1.0", "old", "2.0"]


def test_runner_without_versions_is_unversioned() -> None:
    run = run_orchestrator(_versioned, activities=ACTIVITIES, sub_orchestrators={"child": _child})
    assert run.output == [None, "old", None]


def test_runner_refuses_a_version_that_is_not_text() -> None:
    with pytest.raises(ValueError, match="version must be a string"):
        run_orchestrator(_versioned, version=2)  # type: ignore[arg-type]
