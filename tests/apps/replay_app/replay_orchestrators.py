"""The orchestrators of the replay-check fixture app, as deployed when the instances
started: tests run them in-process to fill a task hub, and `replay-check` loads the app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durable as df

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def rc_approval(context: df.DurableOrchestrationContext) -> Any:
    quote = yield context.call_activity("rc_quote", context.get_input())
    context.set_custom_status("waiting")
    approved = yield context.wait_for_external_event("approve")
    return {"quote": quote, "approved": approved}


@bp.orchestration_trigger(context_name="context")
def rc_reminder(context: df.DurableOrchestrationContext) -> Any:
    due = context.current_utc_datetime + timedelta(days=1)
    yield context.call_activity("rc_quote", 1)
    context.set_custom_status("waiting")
    yield context.create_timer(due)  # its message waits, invisible, in a control queue
    return "reminded"


@bp.orchestration_trigger(context_name="context")
def rc_legacy(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("rc_quote", 2)
    context.set_custom_status("waiting")
    return (yield context.wait_for_external_event("approve"))


@bp.activity_trigger(input_name="order")
def rc_quote(order: Any) -> float:
    return 12.5
