"""Orchestrators the versioning tests run, registered through a Blueprint."""

from __future__ import annotations

from typing import Any

import durable as df

bp = df.Blueprint()


@bp.activity_trigger(input_name="step")
def versioned_step(step: str) -> str:
    return f"ran {step}"


@bp.orchestration_trigger(context_name="context")
def versioned_orchestrator(context: df.DurableOrchestrationContext) -> Any:
    # The idiom of Durable Functions' versioning docs: branch on the instance's version.
    if context.version == "2.0":
        step = yield context.call_activity("versioned_step", "v2")
    else:
        step = yield context.call_activity("versioned_step", "v1")
    return {"version": context.version, "step": step}


@bp.orchestration_trigger(context_name="context")
def versioned_child(context: df.DurableOrchestrationContext) -> Any:
    return context.version
    yield  # a generator


@bp.orchestration_trigger(context_name="context")
def versioned_parent(context: df.DurableOrchestrationContext) -> Any:
    iid = context.instance_id
    inherited = yield context.call_sub_orchestrator("versioned_child", None, f"{iid}-a")
    explicit = yield context.call_sub_orchestrator_with_retry(
        "versioned_child", df.RetryOptions(1000, 2), None, f"{iid}-b", version="1.0"
    )
    return {"parent": context.version, "default": inherited, "explicit": explicit}


@bp.orchestration_trigger(context_name="context")
def versioned_eternal(context: df.DurableOrchestrationContext) -> Any:
    seen = context.get_input() or []
    seen = [*seen, context.version]
    if len(seen) < 3:
        context.continue_as_new(seen)
        return None
    return seen
    yield  # a generator
