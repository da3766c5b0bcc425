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
