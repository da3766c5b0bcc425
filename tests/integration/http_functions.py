"""Orchestrators that make durable HTTP calls, for tests/integration/test_call_http.py.

Each takes the base URL of the test's own HTTP server as its input.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durable as df
from durable.errors import HttpCallError

bp = df.Blueprint()


@bp.orchestration_trigger(context_name="context")
def http_get_twice(context: df.DurableOrchestrationContext) -> Any:
    base = context.get_input()
    first = yield context.call_http("GET", f"{base}/hello", headers={"X-Caller": "durable"})
    middle = yield context.call_activity("say_hello", "between")
    second = yield context.call_http("GET", f"{base}/hello")
    return {"first": first, "middle": middle, "second": second.status_code}


@bp.orchestration_trigger(context_name="context")
def http_post_json(context: df.DurableOrchestrationContext) -> Any:
    base = context.get_input()
    r = yield context.call_http("POST", f"{base}/echo", {"order": 7, "items": ["a"]},
                                {"Content-Type": "application/json", "X-Trace": "t-1"})
    raw = yield context.call_http("PUT", f"{base}/echo", "plain text", is_raw_str=True)
    return {"status": r.status_code, "echo": r.content, "raw": raw.content,
            "reply_header": r.header("X-Reply")}


@bp.orchestration_trigger(context_name="context")
def http_long_job(context: df.DurableOrchestrationContext) -> Any:
    base = context.get_input()
    r = yield context.call_http("POST", f"{base}/jobs", {"work": 1},
                                {"x-functions-key": "secret", "X-Keep": "yes"})
    return {"status": r.status_code, "content": r.content}


@bp.orchestration_trigger(context_name="context")
def http_status_only(context: df.DurableOrchestrationContext) -> Any:
    url = context.get_input()
    r = yield context.call_http("GET", url)
    return {"status": r.status_code, "content": r.content}


@bp.orchestration_trigger(context_name="context")
def http_catching(context: df.DurableOrchestrationContext) -> Any:
    args = context.get_input()
    token = df.ManagedIdentityTokenSource(args["resource"]) if args.get("resource") else None
    timeout = timedelta(seconds=args["timeout"]) if args.get("timeout") else None
    try:
        r = yield context.call_http("GET", args["url"], token_source=token, timeout=timeout)
    except HttpCallError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"status": r.status_code, "content": r.content}


@bp.orchestration_trigger(context_name="context")
def http_bad_uri(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_http("GET", "no-scheme.example.com/path")
