"""The replay-check fixture app after a breaking change: `rc_reminder` now looks the
customer up before quoting, so its running instances no longer match their history.
Everything else is as in ../replay_app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durable as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def rc_approval(context: df.DurableOrchestrationContext) -> Any:
    quote = yield context.call_activity("rc_quote", context.get_input())
    context.set_custom_status("waiting")
    approved = yield context.wait_for_external_event("approve")
    return {"quote": quote, "approved": approved}


@app.orchestration_trigger(context_name="context")
def rc_reminder(context: df.DurableOrchestrationContext) -> Any:
    due = context.current_utc_datetime + timedelta(days=1)
    yield context.call_activity("rc_fetch_customer", 1)
    yield context.call_activity("rc_quote", 1)
    context.set_custom_status("waiting")
    yield context.create_timer(due)
    return "reminded"


@app.orchestration_trigger(context_name="context")
def rc_legacy(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("rc_quote", 2)
    context.set_custom_status("waiting")
    return (yield context.wait_for_external_event("approve"))


@app.activity_trigger(input_name="order")
def rc_quote(order: Any) -> float:
    return 12.5


@app.activity_trigger(input_name="customer")
def rc_fetch_customer(customer: Any) -> dict[str, Any]:
    return {"id": customer}
