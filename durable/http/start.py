"""Starting instances over HTTP: `POST orchestrators/{name}[/{id}]` and `.../restart`.

Starting over an instance that is still running is refused with 409 Conflict and a message
saying so; Durable Functions answers 500 there (its generic error), which tells a caller
nothing.
"""

from __future__ import annotations

import azure.functions as func

from durable.errors import InstanceNotFoundError
from durable.http.calls import Call
from durable.http.request import bad_request


async def start(
    call: Call, function_name: str, instance_id: str | None = None
) -> func.HttpResponse:
    """The body is the input (JSON; empty means null); `?version=` is the orchestration
    version (default: host.json defaultVersion). 202 with the check-status links, or the
    outcome when the request asks to wait (`timeout` and `pollingInterval`)."""
    data = call.req.json_body()
    version = call.req.text("version")
    new_id = await call.client.start_new(function_name, instance_id, data, version)
    return await call.started(new_id)


async def restart(call: Call, instance_id: str) -> func.HttpResponse:
    """Start the instance's orchestrator again with its input, under a new id unless
    `restartWithNewInstanceId=false`. An unknown id is a 400, as in Durable Functions."""
    new_id_wanted = call.req.flag("restartWithNewInstanceId", True)
    try:
        new_id = await call.client.restart(instance_id, new_id_wanted)
    except InstanceNotFoundError as exc:
        raise bad_request(str(exc), "ArgumentException") from None
    return await call.started(new_id)
