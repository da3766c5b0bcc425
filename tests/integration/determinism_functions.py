"""An orchestrator that decides differently when it runs again: a module-level counter
stands for any non-deterministic code (the clock, randomness, I/O)."""

from __future__ import annotations

from typing import Any

import durable as df

bp = df.Blueprint()
RUNS = {"flip_flop": 0}


@bp.orchestration_trigger(context_name="context")
def flip_flop(context: df.DurableOrchestrationContext) -> Any:
    RUNS["flip_flop"] += 1
    first = "det_hello" if RUNS["flip_flop"] == 1 else "det_inc"
    a = yield context.call_activity(first, 1)
    b = yield context.call_activity("det_hello", 2)
    return [a, b]


@bp.orchestration_trigger(context_name="context")
def steady(context: df.DurableOrchestrationContext) -> Any:
    a = yield context.call_activity("det_hello", 1)
    b = yield context.call_activity("det_inc", a)
    return b


@bp.activity_trigger(input_name="value")
def det_hello(value: int) -> int:
    return value


@bp.activity_trigger(input_name="value")
def det_inc(value: int) -> int:
    return value + 1
