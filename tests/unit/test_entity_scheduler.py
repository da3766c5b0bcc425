"""The entity decider, pure: batches, rollback, destruct, locks, de-duplication."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import durable as df
from durable.core.entities import (
    LOCK_ACQUIRED,
    EntityRequest,
    LockRelease,
    parse_response,
)
from durable.core.entity_scheduler import Inbound, run_batch
from durable.core.entity_state import SchedulerState, message_key

NOW = datetime(2024, 1, 1, tzinfo=UTC)
COUNTER = df.EntityId("counter", "k")


def counter(ctx: df.DurableEntityContext) -> None:
    value = ctx.get_state(lambda: 0)
    if ctx.operation_name == "add":
        value += ctx.get_input()
    elif ctx.operation_name == "boom":
        ctx.set_state(value + 1000)
        raise ValueError("boom")
    elif ctx.operation_name == "bad_state":
        ctx.set_state({1, 2})
        return
    elif ctx.operation_name == "delete":
        ctx.destruct_on_exit()
        return
    elif ctx.operation_name == "notify":
        ctx.signal_entity(df.EntityId("counter", "other"), "add", value)
        ctx.start_new_orchestration("audit", value)
    ctx.set_state(value)
    ctx.set_result(value)


def op(mid: str, operation: str, value: Any = None, *, parent: str | None = None,
       signal: bool | None = None, lockset: tuple[str, ...] | None = None) -> Inbound:
    request = EntityRequest(
        id=f"req-{mid}", operation=operation, signal=parent is None if signal is None else signal,
        input=json.dumps(value), parent=parent, parent_execution="exec" if parent else None,
        lockset=lockset,
    )
    return Inbound(mid, "op", request.to_json())


def lock(mid: str, parent: str, *entities: df.EntityId, pos: int = 0) -> Inbound:
    ids = tuple(sorted(str(e) for e in entities))
    request = EntityRequest(f"lock-{parent}", None, False, None, parent, "exec",
                            lockset=ids, position=pos)
    return Inbound(mid, "op", request.to_json())


def release(mid: str, parent: str) -> Inbound:
    return Inbound(mid, "release", LockRelease(parent, f"lock-{parent}").to_json())


def stored(state: SchedulerState) -> Any:
    return json.loads(state.state) if state.state is not None else None


def test_a_batch_runs_in_order_and_answers_calls() -> None:
    state = SchedulerState()
    out = run_batch(COUNTER, state, [op("c:1:c", "add", 5), op("o:0:14", "add", 2, parent="orch"),
                                     op("c:2:c", "add", 3)], counter, NOW)
    assert stored(out.state) == 10 and out.state.exists
    (response,) = out.outgoing
    assert (response.target, response.event_name, response.execution_id) == (
        "orch", "req-o:0:14", "exec")
    assert parse_response(response.payload) == ("7", None)
    assert [r.operation for r in out.operations] == ["add", "add", "add"]


def test_a_failed_operation_is_rolled_back_and_the_batch_goes_on() -> None:
    out = run_batch(COUNTER, SchedulerState(), [
        op("c:1:c", "add", 1), op("o:0:14", "boom", parent="orch"), op("c:2:c", "add", 1)
    ], counter, NOW)
    assert stored(out.state) == 2  # not 1002
    result, failure = parse_response(out.outgoing[0].payload)
    assert result is None and failure is not None
    assert (failure.error_type, failure.error_message) == ("ValueError", "boom")
    assert out.last_failure is not None and out.last_failure.operation == "boom"


def test_without_rollback_a_failed_operation_keeps_its_state() -> None:
    out = run_batch(COUNTER, SchedulerState(), [op("c:1:c", "boom")], counter, NOW,
                    rollback=False)
    assert stored(out.state) == 1000


def test_state_that_cannot_be_stored_fails_the_operation_not_the_state() -> None:
    out = run_batch(COUNTER, SchedulerState(), [
        op("c:1:c", "add", 4), op("o:1:14", "bad_state", parent="orch"), op("c:2:c", "add", 1)
    ], counter, NOW)
    assert stored(out.state) == 5
    _, failure = parse_response(out.outgoing[0].payload)
    assert failure is not None and failure.error_type == "SerializationError"
    assert "set" in failure.error_message  # names the type


def test_destruct_deletes_the_state() -> None:
    state = run_batch(COUNTER, SchedulerState(), [op("c:1:c", "add", 4)], counter, NOW).state
    out = run_batch(COUNTER, state, [op("c:2:c", "delete")], counter, NOW)
    assert out.state.exists is False and out.state.state is None
    again = run_batch(COUNTER, out.state, [op("c:3:c", "add", 1)], counter, NOW)
    assert stored(again.state) == 1  # a new life, from the initializer


def test_signals_and_starts_leave_only_when_the_operation_succeeds() -> None:
    out = run_batch(COUNTER, SchedulerState(), [op("c:1:c", "add", 3), op("c:2:c", "notify")],
                    counter, NOW)
    signal, start = out.outgoing
    assert signal.target == "@counter@other" and signal.event_name == "op"
    request = EntityRequest.from_json(signal.payload)
    assert (request.operation, json.loads(request.input or ""), request.signal) == ("add", 3, True)
    assert start.start is not None and start.start.name == "audit"
    assert out.state.sent == 2


def test_an_unknown_entity_fails_its_operations_and_names_the_known_ones() -> None:
    out = run_batch(df.EntityId("nosuch", "k"), SchedulerState(),
                    [op("c:1:c", "add", 1), op("o:0:14", "get", parent="orch")],
                    None, NOW, known_entities=["counter", "account"])
    assert out.state.exists is False
    _, failure = parse_response(out.outgoing[0].payload)
    assert failure is not None and failure.error_type == "EntityNotFoundError"
    assert "'nosuch'" in failure.error_message and "account, counter" in failure.error_message
    assert any("nosuch" in text for _, text in out.notes)  # the signal's failure is logged


def test_the_batch_size_caps_operations_and_asks_to_be_woken() -> None:
    ops = [op(f"c:{i}:c", "add", 1) for i in range(1, 8)]
    out = run_batch(COUNTER, SchedulerState(), ops, counter, NOW, max_operations=3)
    assert stored(out.state) == 3 and len(out.state.queue) == 4 and out.wake_again
    rest = run_batch(COUNTER, out.state, [], counter, NOW, max_operations=3)
    assert stored(rest.state) == 6 and rest.wake_again
    last = run_batch(COUNTER, rest.state, [], counter, NOW, max_operations=3)
    assert stored(last.state) == 7 and not last.wake_again and last.state.queue == []


def test_applied_messages_are_recognised() -> None:
    out = run_batch(COUNTER, SchedulerState(), [op("abc:4:14", "add", 1)], counter, NOW)
    state = SchedulerState.from_json(out.state.to_json())
    assert state.has_applied("abc:4:14") and not state.has_applied("abc:5:14")
    for n in (5, 7, 6):
        state.record(f"abc:{n}:14", NOW)
    assert state.received["abc:14"].ranges == [[4, 7]]  # a run of messages is one range
    assert message_key("plain-id") == ("plain-id", 0)


def test_senders_are_forgotten_after_the_reorder_window() -> None:
    state = SchedulerState()
    state.record("old:1:c", NOW - timedelta(hours=1))
    out = run_batch(COUNTER, state, [op("new:1:c", "add", 1)], counter, NOW,
                    reorder_window=timedelta(minutes=30))
    assert set(out.state.received) == {"new:c"}


def test_a_lock_request_passes_along_the_lock_set_and_the_last_answers() -> None:
    a, b = df.EntityId("counter", "a"), df.EntityId("counter", "b")
    first = run_batch(a, SchedulerState(), [lock("o:1:14", "orch", a, b)], counter, NOW)
    assert first.state.locked_by == "orch"
    (forward,) = first.outgoing
    assert forward.target == str(b)
    assert EntityRequest.from_json(forward.payload).position == 1
    last = run_batch(b, SchedulerState(), [Inbound("a:1:e", "op", forward.payload)], counter, NOW)
    (answer,) = last.outgoing
    assert answer.target == "orch" and answer.event_name == "lock-orch"
    assert parse_response(answer.payload) == (json.dumps(LOCK_ACQUIRED), None)


def test_while_locked_only_the_holders_requests_run() -> None:
    state = run_batch(COUNTER, SchedulerState(), [lock("o:1:14", "orch", COUNTER)],
                      counter, NOW).state
    out = run_batch(COUNTER, state, [
        op("c:1:c", "add", 100),                       # someone else: waits
        op("o:2:14", "add", 1, parent="orch"),          # the holder: runs
        lock("p:1:14", "other", COUNTER),               # another section: waits
    ], counter, NOW)
    assert stored(out.state) == 1 and len(out.state.queue) == 2
    freed = run_batch(COUNTER, out.state, [release("o:3:14", "orch")], counter, NOW)
    # The waiting signal ran, then the other orchestration took the lock.
    assert stored(freed.state) == 101 and freed.state.locked_by == "other"
    assert freed.state.queue == []


def test_a_release_by_another_orchestration_changes_nothing() -> None:
    state = run_batch(COUNTER, SchedulerState(), [lock("o:1:14", "orch", COUNTER)],
                      counter, NOW).state
    out = run_batch(COUNTER, state, [release("x:1:14", "intruder")], counter, NOW)
    assert out.state.locked_by == "orch"


@pytest.mark.parametrize("bad", ["not json", "[1]", '{"op": "add"}'])
def test_a_malformed_request_is_ignored_with_a_note(bad: str) -> None:
    out = run_batch(COUNTER, SchedulerState(), [Inbound("c:1:c", "op", bad)], counter, NOW)
    assert out.operations == [] and out.notes


def test_the_state_round_trips_through_json() -> None:
    state = run_batch(COUNTER, SchedulerState(), [lock("o:1:14", "orch", COUNTER),
                                                   op("c:1:c", "add", 2)], counter, NOW).state
    again = SchedulerState.from_json(state.to_json())
    assert again == state
    data = json.loads(state.to_json())
    assert data["lockedBy"] == "orch" and data["exists"] is False and len(data["queue"]) == 1


def chained(mid: str, operation: str, value: Any, predecessor: str | None) -> Inbound:
    request = EntityRequest(f"req-{mid}", operation, True, json.dumps(value), "orch",
                            predecessor=predecessor)
    return Inbound(mid, "op", request.to_json())


def setter(ctx: df.DurableEntityContext) -> None:
    ctx.set_state([*(ctx.get_state(list) or []), ctx.get_input()])


def test_a_message_that_overtook_its_predecessor_waits_for_it() -> None:
    first = chained("e:1:14", "set", "first", None)
    second = chained("e:2:14", "set", "second", "e:1:14")
    third = chained("e:3:14", "set", "third", "e:2:14")
    out = run_batch(COUNTER, SchedulerState(), [third, second], setter, NOW)
    assert out.state.state is None and len(out.state.held) == 2
    assert out.state.has_applied("e:3:14") and not out.state.was_processed("e:3:14")
    done = run_batch(COUNTER, out.state, [first], setter, NOW)
    assert stored(done.state) == ["first", "second", "third"] and done.state.held == []


def test_a_predecessor_that_never_comes_is_given_up_after_the_window() -> None:
    late = chained("e:2:14", "set", "late", "e:1:14")
    held = run_batch(COUNTER, SchedulerState(), [late], setter, NOW).state
    assert held.held
    out = run_batch(COUNTER, held, [], setter, NOW + timedelta(hours=1),
                    reorder_window=timedelta(minutes=30))
    assert stored(out.state) == ["late"] and any("never came" in t for _, t in out.notes)


def test_an_entity_numbers_what_it_sends_each_target_in_order() -> None:
    def fanout(ctx: df.DurableEntityContext) -> None:
        for i in range(3):
            ctx.signal_entity(df.EntityId("counter", "t"), "add", i)

    out = run_batch(COUNTER, SchedulerState(), [op("c:1:c", "go")], fanout, NOW)
    requests = [EntityRequest.from_json(o.payload) for o in out.outgoing]
    assert [r.predecessor for r in requests] == [None, "@counter@k:0:e", "@counter@k:1:e"]
