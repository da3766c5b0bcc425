"""Critical sections in replay, pure: lock and release actions, the rules, the generator's
life cycle, and determinism of entity actions."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import pytest

import durable as df
from durable.core import events as ev
from durable.core.actions import CallEntity, LockEntities, ReleaseLock, SignalEntity
from durable.core.entities import LOCK_ACQUIRED, EntityRequest, LockRelease, response_message
from durable.core.status import OrchestrationRuntimeStatus as S
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
A = df.EntityId("Account", "a")
B = df.EntityId("Account", "b")


def granted(h: Harness, action: LockEntities) -> Any:
    request = EntityRequest.from_json(action.input)
    return h.raised_raw(request.id, response_message(json.dumps(LOCK_ACQUIRED)))


def answer(h: Harness, action: CallEntity, value: Any) -> Any:
    request = EntityRequest.from_json(action.input)
    return h.raised_raw(request.id, response_message(json.dumps(value)))


def transfer(ctx: df.DurableOrchestrationContext) -> Gen:
    with (yield ctx.lock([B, A])):
        balance = yield ctx.call_entity(A, "get")
        yield ctx.call_entity(B, "deposit", balance)
    return balance


def test_a_section_locks_in_order_calls_and_releases() -> None:
    h = Harness(transfer)
    (lock,) = h.start().actions
    assert isinstance(lock, LockEntities)
    assert lock.lockset == ("@account@a", "@account@b") and lock.instance_id == "@account@a"
    request = EntityRequest.from_json(lock.input)
    assert request.parent == "inst-1" and request.parent_execution == "exec-1"
    (get,) = h.run(granted(h, lock)).actions
    assert isinstance(get, CallEntity) and (get.instance_id, get.operation) == ("@account@a",
                                                                               "get")
    (deposit,) = h.run(answer(h, get, 7)).actions
    done = h.run(answer(h, deposit, 7))
    releases = done.actions
    assert [type(r) for r in releases] == [ReleaseLock, ReleaseLock]
    assert [r.instance_id for r in releases] == ["@account@a", "@account@b"]
    assert all(LockRelease.from_json(r.input).parent == "inst-1" for r in releases)
    assert done.status is S.Completed and done.output == "7"


def test_an_exception_in_the_section_still_releases() -> None:
    def failing(ctx: df.DurableOrchestrationContext) -> Gen:
        with (yield ctx.lock([A])):
            yield ctx.call_entity(A, "get")
            raise RuntimeError("in the section")

    h = Harness(failing)
    (lock,) = h.start().actions
    (get,) = h.run(granted(h, lock)).actions
    done = h.run(answer(h, get, 1))
    assert done.status is S.Failed
    assert [type(a) for a in done.actions] == [ReleaseLock]


def test_locks_held_at_the_end_are_given_back() -> None:
    def keeps(ctx: df.DurableOrchestrationContext) -> Gen:
        yield ctx.lock([A])  # never used as `with`
        return "done"

    h = Harness(keeps)
    (lock,) = h.start().actions
    done = h.run(granted(h, lock))
    assert done.status is S.Completed
    assert [type(a) for a in done.actions] == [ReleaseLock]


def test_closing_the_generator_inside_the_section_releases_nothing() -> None:
    """Live sessions off: every episode replays with a fresh generator, and the previous
    one is closed (GeneratorExit at the yield inside the block)."""
    h = Harness(transfer, sessions=False)
    (lock,) = h.start().actions
    first = h.run(granted(h, lock))
    assert [type(a) for a in first.actions] == [CallEntity]  # no ReleaseLock anywhere
    assert not h.named("release")


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (lambda ctx: ctx.call_entity(df.EntityId("Other", "x"), "get"), "did not lock"),
        (lambda ctx: ctx.signal_entity(A, "deposit", 1), "locked"),
        (lambda ctx: ctx.call_sub_orchestrator("child"), "sub_orchestrator"),
        (lambda ctx: ctx.lock([B]), "nested"),
    ],
)
def test_breaking_a_rule_fails_with_the_rule(body: Any, rule: str) -> None:
    def breaks(ctx: df.DurableOrchestrationContext) -> Gen:
        with (yield ctx.lock([A])):
            yield body(ctx)

    h = Harness(breaks)
    (lock,) = h.start().actions
    done = h.run(granted(h, lock))
    assert done.status is S.Failed
    assert done.failure_details is not None
    assert done.failure_details.error_type == "LockingRulesViolationError"
    assert rule in done.failure_details.error_message


def test_two_calls_at_once_to_a_locked_entity_break_a_rule() -> None:
    def parallel(ctx: df.DurableOrchestrationContext) -> Gen:
        with (yield ctx.lock([A])):
            yield ctx.task_all([ctx.call_entity(A, "get"), ctx.call_entity(A, "get")])

    h = Harness(parallel)
    (lock,) = h.start().actions
    done = h.run(granted(h, lock))
    assert done.failure_details is not None
    assert "a second call" in done.failure_details.error_message


def test_a_changed_entity_or_operation_is_non_deterministic() -> None:
    def first(ctx: df.DurableOrchestrationContext) -> Gen:
        ctx.signal_entity(A, "deposit", 1)
        return (yield ctx.call_entity(A, "get"))

    def other_entity(ctx: df.DurableOrchestrationContext) -> Gen:
        ctx.signal_entity(B, "deposit", 1)
        return (yield ctx.call_entity(A, "get"))

    def other_operation(ctx: df.DurableOrchestrationContext) -> Gen:
        ctx.signal_entity(A, "deposit", 1)
        return (yield ctx.call_entity(A, "balance"))

    h = Harness(first)
    signal, call = h.start().actions
    assert isinstance(signal, SignalEntity) and isinstance(call, CallEntity)
    for changed, expected, got in [
        (other_entity, "signal of 'deposit' to @account@a", "signal_entity @account@b"),
        (other_operation, "call of 'get' to @account@a", "call_entity @account@a 'balance'"),
    ]:
        replay = h.replay(changed)
        assert replay.status is S.Failed and replay.failure_details is not None
        message = replay.failure_details.error_message
        assert expected in message and got in message, message


def test_terminating_inside_a_section_does_not_release_on_generator_exit() -> None:
    """The runtime closes the generator of a terminated orchestration (GeneratorExit at the
    yield inside the block); that is not the orchestration leaving its section."""
    h = Harness(transfer, sessions=True)
    (lock,) = h.start().actions
    h.run(granted(h, lock))
    done = h.run(ev.execution_terminated(h.now, json.dumps("stop")))
    assert done.status is S.Terminated
    assert done.actions == [] and not h.named("release")


def test_messages_to_one_entity_name_their_predecessor() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Gen:
        ctx.signal_entity(A, "deposit", 1)
        ctx.signal_entity(B, "deposit", 1)
        return (yield ctx.call_entity(A, "get"))

    h = Harness(orch)
    to_a, to_b, call = h.start().actions
    assert EntityRequest.from_json(to_a.input).predecessor is None
    assert EntityRequest.from_json(to_b.input).predecessor is None
    assert EntityRequest.from_json(call.input).predecessor == "exec-1:0:14"
    # Replay computes the same chain (the history's actions are matched, not re-sent).
    assert h.replay().status is S.Running
