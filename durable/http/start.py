"""Starting instances over HTTP: `POST orchestrators/{name}[/{id}]` and `.../restart`.

Starting over an instance that is still running is refused with 409 Conflict and a message
saying so; Durable Functions answers 500 there (its generic error), which tells a caller
nothing.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

from durable.core.history import TraceContext
from durable.errors import InstanceNotFoundError
from durable.http.calls import Call
from durable.http.request import bad_request
from durable.runtime import tracing


async def start(
    call: Call, function_name: str, instance_id: str | None = None
) -> func.HttpResponse:
    """The body is the input (JSON; empty means null); `?version=` is the orchestration
    version (default: host.json defaultVersion). 202 with the check-status links, or the
    outcome when the request asks to wait (`timeout` and `pollingInterval`)."""
    data = call.req.json_body()
    version = call.req.text("version")
    with tracing.attached(caller_trace(call.req.headers)):
        new_id = await call.client.start_new(function_name, instance_id, data, version)
    return await call.started(new_id)


def caller_trace(headers: Any) -> TraceContext | None:
    """The caller's W3C trace context from its `traceparent` / `tracestate` headers, which
    the started orchestration's trace continues (when the host has not made it current)."""
    parent = headers.get("traceparent") if headers is not None else None
    if not parent:
        return None
    return TraceContext(str(parent), headers.get("tracestate") or None)


async def restart(call: Call, instance_id: str) -> func.HttpResponse:
    """Start the instance's orchestrator again with its input, under a new id unless
    `restartWithNewInstanceId=false`. An unknown id is a 400, as in Durable Functions."""
    new_id_wanted = call.req.flag("restartWithNewInstanceId", True)
    try:
        new_id = await call.client.restart(instance_id, new_id_wanted)
    except InstanceNotFoundError as exc:
        raise bad_request(str(exc), "ArgumentException") from None
    return await call.started(new_id)
