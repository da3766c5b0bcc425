"""Which instance versions a deployment takes (host.json defaultVersion and the match and
failure strategies), as replay-check judges them, and its verdict on one instance."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext
from durable.core.registry import DurableFunction, DurableKind
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.interface import InstanceRecord
from durable.testing import run_orchestrator
from emulator.replay_check import Verdict, check_instance, summary
from emulator.replay_versions import (
    VersionFailureStrategy,
    VersionMatchStrategy,
    VersionRule,
    compare_versions,
)


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("1.0", "1.0", 0),
        ("1.2", "1.10", -1),  # by number, not as text
        ("2.0.0.1", "2.0", 1),
        ("", "", 0),
        ("", "1.0", -1),  # no version is older than any
        ("beta", "Beta", 0),  # text ignores case
        ("alpha", "beta", -1),
        ("1", "1.0", -1),  # "1" is not a System.Version: compared as text
    ],
)
def test_versions_compare_as_durable_task_does(a: str, b: str, order: int) -> None:
    assert compare_versions(a, b) == order
    assert compare_versions(b, a) == -order


def host(**durable: Any) -> dict[str, Any]:
    return {"version": "2.0", "extensions": {"durableTask": durable}}


def test_host_json_is_read_case_insensitively() -> None:
    rule = VersionRule.from_host_json(
        {"Extensions": {"DurableTask": {"DefaultVersion": "2.0", "versionMatchStrategy": "strict",
                                         "versionFailureStrategy": "FAIL"}}}
    )
    assert rule == VersionRule("2.0", VersionMatchStrategy.STRICT, VersionFailureStrategy.FAIL)
    assert VersionRule.from_host_json({}) == VersionRule()
    with pytest.raises(ValueError, match="versionMatchStrategy is 'Newest'; use one of"):
        VersionRule.from_host_json(host(defaultVersion="1.0", versionMatchStrategy="Newest"))


def test_current_or_older_takes_older_and_equal_versions() -> None:
    rule = VersionRule.from_host_json(host(defaultVersion="2.0"))
    assert rule.match is VersionMatchStrategy.CURRENT_OR_OLDER
    assert rule.rejection("1.0") is None and rule.rejection("2.0") is None
    assert rule.rejection(None) is None
    reason = rule.rejection("3.0")
    assert reason is not None and "'3.0' is newer than" in reason and "wait" in reason


def test_strict_takes_only_the_same_version() -> None:
    rule = VersionRule.from_host_json(
        host(defaultVersion="2.0", versionMatchStrategy="Strict", versionFailureStrategy="Fail")
    )
    assert rule.rejection("2.0") is None
    reason = rule.rejection("1.0")
    assert reason is not None and "is not the deployment's defaultVersion '2.0'" in reason
    assert "it would fail" in reason
    assert rule.rejection(None) is not None


def test_no_default_version_or_none_strategy_takes_everything() -> None:
    assert VersionRule.from_host_json(host()).rejection("9.0") is None
    none = VersionRule.from_host_json(host(defaultVersion="1.0", versionMatchStrategy="None"))
    assert none.rejection("9.0") is None


def steady(ctx: DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    return (yield ctx.call_activity("step", 1))


def changed(ctx: DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    return (yield ctx.call_activity("other_step", 1))


def test_the_verdict_on_one_instance() -> None:
    run = run_orchestrator(steady, name="steady", activities={"step": lambda v: v})
    record = InstanceRecord("i-1", name="steady", runtime_status=S.Completed)
    app = {"steady": DurableFunction(DurableKind.ORCHESTRATOR, "steady", steady, "ctx")}
    ok = check_instance(record, run.history, app, VersionRule())
    assert ok.verdict is Verdict.OK and ok.message == "replays to Completed"
    app_changed = {"steady": DurableFunction(DurableKind.ORCHESTRATOR, "steady", changed, "ctx")}
    bad = check_instance(record, run.history, app_changed, VersionRule())
    assert bad.verdict is Verdict.NON_DETERMINISTIC and "other_step" in bad.message
    gone = check_instance(record, run.history, {}, VersionRule())
    assert gone.verdict is Verdict.MISSING_ORCHESTRATOR
    assert "no orchestrator 'steady'" in gone.message
    strict = VersionRule("2.0", VersionMatchStrategy.STRICT)
    rejected = check_instance(record, run.history, app, strict)
    assert rejected.verdict is Verdict.VERSION_REJECTED
    pending = check_instance(InstanceRecord("i-2", name="steady"), [], app, strict)
    assert pending.verdict is Verdict.NOT_STARTED
    line = summary([ok, bad, gone, rejected, pending])
    assert "5 checked" in line and "3 instance(s) would fail or not run" in line
    assert "1 NON-DETERMINISTIC" in line and "1 NOT-STARTED" in line
