"""Orchestrators and activities the backend tests run, registered through a Blueprint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durable as df

bp = df.Blueprint()


@bp.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"Hello {name}!"


@bp.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext) -> Any:
    out = []
    out.append((yield context.call_activity("say_hello", "Tokyo")))
    out.append((yield context.call_activity("say_hello", "Seattle")))
    out.append((yield context.call_activity("say_hello", "London")))
    return out


@bp.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext) -> Any:
    n = context.get_input()
    tasks = [context.call_activity("say_hello", str(i)) for i in range(n)]
    results = yield context.task_all(tasks)
    return len(results)


@bp.orchestration_trigger(context_name="context")
def wait_event(context: df.DurableOrchestrationContext) -> Any:
    value = yield context.wait_for_external_event("approval")
    return value


@bp.orchestration_trigger(context_name="context")
def short_timer(context: df.DurableOrchestrationContext) -> Any:
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=2))
    return "fired"


# --- retries, failures, compensation ------------------------------------------------------

attempts: dict[str, int] = {}


@bp.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    """Fails the first two calls per key, then succeeds."""
    attempts[key] = attempts.get(key, 0) + 1
    if attempts[key] <= 2:
        raise ConnectionError(f"flaky failure {attempts[key]} for {key}")
    return f"ok after {attempts[key]}"


@bp.activity_trigger(input_name="what")
def always_fails(what: str) -> str:
    raise ValueError(f"cannot {what}")


@bp.orchestration_trigger(context_name="context")
def with_retry(context: df.DurableOrchestrationContext) -> Any:
    opts = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=3)
    return (yield context.call_activity_with_retry("flaky", opts, context.get_input()))


@bp.orchestration_trigger(context_name="context")
def fallback_and_compensate(context: df.DurableOrchestrationContext) -> Any:
    steps = [(yield context.call_activity("say_hello", "conference"))]
    try:
        yield context.call_activity("always_fails", "fly")
    except Exception as exc:  # the activity's error surfaces here
        steps.append(f"caught: {exc}")
        steps.append((yield context.call_activity("say_hello", "undo conference")))
    return steps


@bp.orchestration_trigger(context_name="context")
def unhandled_failure(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("always_fails", "book")
    return "unreachable"


# --- sub-orchestrations, continue-as-new ---------------------------------------------------


@bp.orchestration_trigger(context_name="context")
def parent_of_two(context: df.DurableOrchestrationContext) -> Any:
    a = yield context.call_sub_orchestrator("hello_sequence")
    b = yield context.task_all(
        [context.call_sub_orchestrator("fan_out", 5), context.call_sub_orchestrator("fan_out", 3)]
    )
    try:
        yield context.call_sub_orchestrator("unhandled_failure")
        failed = "no"
    except Exception as exc:
        failed = str(exc)
    return {"first": a, "parallel": b, "failed": failed}


@bp.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext) -> Any:
    n = context.get_input() or 0
    context.set_custom_status({"n": n})
    if n >= 5:
        return n
    yield context.call_activity("say_hello", str(n))
    context.continue_as_new(n + 1)
    return None


# --- large payloads and long timers --------------------------------------------------------


@bp.activity_trigger(input_name="size")
def big_result(size: int) -> str:
    return "x" * size


@bp.orchestration_trigger(context_name="context")
def big_payload(context: df.DurableOrchestrationContext) -> Any:
    text = yield context.call_activity("big_result", context.get_input())
    echoed = yield context.call_activity("echo_len", text)
    context.set_custom_status({"head": text[:10]})
    return {"len": len(text), "echoed": echoed, "tail": text[-5:]}


@bp.activity_trigger(input_name="text")
def echo_len(text: str) -> int:
    return len(text)


@bp.orchestration_trigger(context_name="context")
def long_timer(context: df.DurableOrchestrationContext) -> Any:
    due = context.current_utc_datetime + timedelta(days=10)
    yield context.create_timer(due)
    return context.current_utc_datetime >= due


# --- concurrency limits --------------------------------------------------------------------

probe = {"running": 0, "peak": 0}


@bp.activity_trigger(input_name="seconds")
async def concurrency_probe(seconds: float) -> int:
    import asyncio

    probe["running"] += 1
    probe["peak"] = max(probe["peak"], probe["running"])
    try:
        await asyncio.sleep(seconds)  # the activity's "work"
    finally:
        probe["running"] -= 1
    return probe["peak"]


@bp.orchestration_trigger(context_name="context")
def probe_fan_out(context: df.DurableOrchestrationContext) -> Any:
    n = context.get_input()
    yield context.task_all([context.call_activity("concurrency_probe", 0.05) for _ in range(n)])
    return n


# --- work stealing ---------------------------------------------------------------------------

steal_runs: dict[int, int] = {}


@bp.activity_trigger(input_name="index")
async def slow_step(index: int) -> int:
    import asyncio

    steal_runs[index] = steal_runs.get(index, 0) + 1
    await asyncio.sleep(0.3)  # the activity's work
    return index


@bp.orchestration_trigger(context_name="context")
def slow_fan_out(context: df.DurableOrchestrationContext) -> Any:
    n = context.get_input()
    results = yield context.task_all([context.call_activity("slow_step", i) for i in range(n)])
    return sum(results)
