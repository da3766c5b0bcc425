"""The replay-check fixture app at version 1.0 of its host.json: `rc_legacy` is gone, the
other orchestrators are unchanged (../replay_app)."""

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
    yield context.call_activity("rc_quote", 1)
    context.set_custom_status("waiting")
    yield context.create_timer(due)
    return "reminded"


@app.activity_trigger(input_name="order")
def rc_quote(order: Any) -> float:
    return 12.5
