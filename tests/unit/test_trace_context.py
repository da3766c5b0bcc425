"""The derived trace context of an orchestration execution (pure: no tracing library)."""

from __future__ import annotations

from durable.core.history import TraceContext
from durable.runtime.trace_context import orchestration_context, parse_traceparent, task_context

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parse_accepts_w3c_and_rejects_the_rest() -> None:
    assert parse_traceparent(CALLER) == (
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"
    )
    for bad in (None, "", "garbage", CALLER.replace("00-", "ff-", 1),
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"):
        assert parse_traceparent(bad) is None, bad


def test_an_execution_continues_its_callers_trace_with_its_own_span() -> None:
    ctx = orchestration_context("inst", "exec", TraceContext(CALLER, "k=v"))
    trace_id, span_id, flags = parse_traceparent(ctx.trace_parent) or ("", "", "")
    assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and flags == "01"
    assert span_id != "00f067aa0ba902b7" and ctx.trace_state == "k=v"


def test_ids_are_the_same_on_every_host_and_differ_per_execution() -> None:
    a = orchestration_context("inst", "exec", None)
    assert a == orchestration_context("inst", "exec", None)
    assert parse_traceparent(a.trace_parent) is not None
    b = orchestration_context("inst", "exec-2", None)
    assert a.trace_parent.split("-")[1:3] != b.trace_parent.split("-")[1:3]
    # A start without a valid caller trace gets a trace of its own, not a broken one.
    c = orchestration_context("inst", "exec", TraceContext("not-a-traceparent"))
    assert c == a


def test_a_task_span_is_in_the_orchestrations_trace_with_an_id_per_task() -> None:
    caller = TraceContext(CALLER)
    orchestration = orchestration_context("inst", "exec", caller).trace_parent.split("-")
    first = task_context("inst", "exec", 0, caller).trace_parent.split("-")
    second = task_context("inst", "exec", 1, caller).trace_parent.split("-")
    assert first[1] == second[1] == orchestration[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert len({first[2], second[2], orchestration[2]}) == 3
    assert task_context("inst", "exec", 0, caller) == task_context("inst", "exec", 0, caller)
