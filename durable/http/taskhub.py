"""Management API endpoints the dashboard needs beyond Durable Functions' own: the task hub
(queue depths, poison queues, instance counts by status) and the registered orchestrators.

`GET taskhub`, `GET taskhub/counts`, `GET taskhub/poison/{queue}`,
`DELETE taskhub/poison/{queue}/{messageId}` (refused with 403 when the dashboard is
read-only: it exists only for the dashboard), `GET orchestrators`.
"""

from __future__ import annotations

import azure.functions as func

from durable.client import links
from durable.errors import ManagementApiError
from durable.http.calls import Call
from durable.http.dashboard.pages import SETTINGS_PATH, DashboardSettings
from durable.http.request import bad_request


async def describe(call: Call) -> func.HttpResponse:
    """Queue depths of the hub (control, work items, poison)."""
    return links.json_response(await call.client.get_queue_depths(), 200)


async def counts(call: Call) -> func.HttpResponse:
    """Orchestration instances per runtime status (one scan of the Instances table)."""
    return links.json_response(await call.client.get_instance_counts(), 200)


async def poison_messages(call: Call, queue_name: str) -> func.HttpResponse:
    """The first messages of a poison queue (at most 32), not hidden by looking."""
    try:
        found = await call.client.get_poison_messages(queue_name)
    except ValueError as exc:
        raise ManagementApiError(404, str(exc)) from None
    return links.json_response(found, 200)


async def delete_poison(call: Call, queue_name: str, message_id: str) -> func.HttpResponse:
    """Delete one poison message: 200 `{"deleted": 1}`, 404 when it is not there."""
    if DashboardSettings.load().read_only:
        raise ManagementApiError(
            403, f"The dashboard is read-only (host.json {SETTINGS_PATH}.readOnly)."
        )
    if not message_id.strip():
        raise bad_request("The message id must not be empty.")
    try:
        deleted = await call.client.delete_poison_message(queue_name, message_id)
    except ValueError as exc:
        raise ManagementApiError(404, str(exc)) from None
    if not deleted:
        raise ManagementApiError(
            404, f"No message with id '{message_id}' is in poison queue '{queue_name}'."
        )
    return links.json_response({"deleted": 1}, 200)


async def list_orchestrators(call: Call) -> func.HttpResponse:
    """The orchestrators this app registers, to start one from the dashboard."""
    return links.json_response({"orchestrators": call.client.get_orchestrator_names()}, 200)
