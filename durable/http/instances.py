"""The `instances` endpoints: status, lists, purge, and the operations on one instance.

Status codes are Durable Functions' (`HttpApiHandler`): 202 while an instance runs, 200 once
it finished (Failed included, unless `returnInternalServerErrorOnFailure`), 404 for an
unknown id, 410 for an operation on a finished instance. Where DF answers 500 because the
client refused an operation for the instance's state (resume a running instance, rewind a
pending one), we answer 409 Conflict with the reason.
"""

from __future__ import annotations

import azure.functions as func

from durable.client import links
from durable.core.status import TERMINAL_STATUSES, OrchestrationRuntimeStatus
from durable.errors import ManagementApiError
from durable.http.calls import STATUS_RETRY_AFTER, Call
from durable.http.request import bad_request

DEFAULT_TOP = 100
CONTINUATION_HEADER = "x-ms-continuation-token"
_REWIND_GONE = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)


def accepted() -> func.HttpResponse:
    return func.HttpResponse(status_code=202)


async def get_instance(call: Call, instance_id: str) -> func.HttpResponse:
    q = call.req
    status = await call.client.get_status(
        instance_id,
        show_history=q.flag("showHistory", False),
        show_history_output=q.flag("showHistoryOutput", False),
        show_input=q.flag("showInput", True),
    )
    if not status:
        raise ManagementApiError(404, f"No instance with id '{instance_id}' was found.")
    body = status.to_status_body()
    kind = status.runtime_status
    if kind not in TERMINAL_STATUSES:
        headers = {"Location": q.url, "Retry-After": STATUS_RETRY_AFTER}
        return links.json_response(body, 202, headers)
    fail_500 = q.flag("returnInternalServerErrorOnFailure", False)
    code = 500 if fail_500 and kind is OrchestrationRuntimeStatus.Failed else 200
    return links.json_response(body, code)


async def list_instances(call: Call) -> func.HttpResponse:
    q = call.req
    top = q.number("top")
    if top is not None and (top < 1 or top != int(top)):
        raise bad_request(f"Query parameter 'top' must be a positive whole number, got {top:g}.")
    created_from, created_to = q.time("createdTimeFrom"), q.time("createdTimeTo")
    if created_from is not None and created_to is not None and created_from > created_to:
        raise bad_request("'createdTimeFrom' is later than 'createdTimeTo'.")
    page, token = await call.client.get_status_page(
        created_time_from=created_from,
        created_time_to=created_to,
        runtime_status=q.statuses("runtimeStatus"),
        instance_id_prefix=q.text("instanceIdPrefix"),
        page_size=int(top) if top is not None else DEFAULT_TOP,
        continuation_token=q.headers.get(CONTINUATION_HEADER) or None,
        show_input=q.flag("showInput", True),
        version=q.text("version"),
        name_prefix=q.text("namePrefix"),
    )
    headers = {CONTINUATION_HEADER: token} if token else {}
    return links.json_response([s.to_status_body() for s in page], 200, headers)


async def purge_one(call: Call, instance_id: str) -> func.HttpResponse:
    result = await call.client.purge_instance_history(instance_id)
    if not result.instances_deleted:
        raise ManagementApiError(404, f"No instance with id '{instance_id}' was found.")
    return links.json_response(result.to_json(), 200)


async def purge_by_filter(call: Call) -> func.HttpResponse:
    q = call.req
    created_from = q.time("createdTimeFrom")
    if created_from is None:
        raise bad_request("Please provide value for 'createdTimeFrom' parameter.")
    result = await call.client.purge_instance_history_by(
        created_from, q.time("createdTimeTo"), q.statuses("runtimeStatus")
    )
    if not result.instances_deleted:
        raise ManagementApiError(404, "No instances matched the filter; nothing was deleted.")
    return links.json_response(result.to_json(), 200)


async def raise_event(call: Call, instance_id: str, event_name: str) -> func.HttpResponse:
    await call.running(instance_id)
    if call.req.body.strip():
        media = (call.req.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            raise bad_request(
                "Only application/json request content is supported "
                f"(the Content-Type is {media or 'missing'!r})."
            )
    data = call.req.json_body()
    await call.client.raise_event(instance_id, event_name, data)
    return accepted()


async def terminate(call: Call, instance_id: str) -> func.HttpResponse:
    await call.running(instance_id)
    await call.client.terminate(instance_id, call.req.text("reason"))
    return accepted()


async def suspend(call: Call, instance_id: str) -> func.HttpResponse:
    await call.running(instance_id)
    await call.client.suspend(instance_id, call.req.text("reason"))
    return accepted()


async def resume(call: Call, instance_id: str) -> func.HttpResponse:
    await call.running(instance_id)
    await call.client.resume(instance_id, call.req.text("reason"))
    return accepted()


async def rewind(call: Call, instance_id: str) -> func.HttpResponse:
    await call.running(instance_id, gone=_REWIND_GONE)
    await call.client.rewind(instance_id, call.req.text("reason") or "")
    return accepted()
