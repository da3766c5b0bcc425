"""The management API's one handler: match the path, run the endpoint, turn errors into
Durable Functions' JSON error bodies. A caller never sees a stack trace; the log does."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import azure.functions as func

from durable.client import links
from durable.client.orchestration_client import ClientSource
from durable.errors import (
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    ManagementApiError,
    StorageUnavailableError,
    TaskHubError,
)
from durable.http import entities, instances, start, taskhub
from durable.http.calls import Call
from durable.http.dashboard import pages
from durable.http.request import ApiRequest, bad_request

log = logging.getLogger("durable.http")

Endpoint = Callable[..., Awaitable[func.HttpResponse]]
# (method, path pattern, endpoint); "{}" matches one segment, passed to the endpoint in order.
ROUTES: tuple[tuple[str, tuple[str, ...], Endpoint], ...] = (
    ("POST", ("orchestrators", "{}"), start.start),
    ("POST", ("orchestrators", "{}", "{}"), start.start),
    ("GET", ("instances",), instances.list_instances),
    ("DELETE", ("instances",), instances.purge_by_filter),
    ("GET", ("instances", "{}"), instances.get_instance),
    ("DELETE", ("instances", "{}"), instances.purge_one),
    ("POST", ("instances", "{}", "raiseevent", "{}"), instances.raise_event),
    ("POST", ("instances", "{}", "terminate"), instances.terminate),
    ("POST", ("instances", "{}", "suspend"), instances.suspend),
    ("POST", ("instances", "{}", "resume"), instances.resume),
    ("POST", ("instances", "{}", "rewind"), instances.rewind),
    ("POST", ("instances", "{}", "restart"), start.restart),
    ("GET", ("entities",), entities.list_entities),
    ("GET", ("entities", "{}"), entities.list_entities),
    ("GET", ("entities", "{}", "{}"), entities.get_entity),
    ("POST", ("entities", "{}", "{}"), entities.signal_entity),
    ("DELETE", ("entities", "{}", "{}"), entities.delete_entity),
    # Beyond Durable Functions: what the dashboard needs, and the dashboard itself.
    ("GET", ("orchestrators",), taskhub.list_orchestrators),
    ("GET", ("taskhub",), taskhub.describe),
    ("GET", ("taskhub", "counts"), taskhub.counts),
    ("GET", ("taskhub", "poison", "{}"), taskhub.poison_messages),
    ("DELETE", ("taskhub", "poison", "{}", "{}"), taskhub.delete_poison),
    ("GET", ("dashboard",), pages.index),
    ("GET", ("dashboard", "{}"), pages.asset),
)
GENERIC_500 = "Something went wrong while processing your request"
# Seconds a caller should wait after a 503 (storage unreachable) before trying again.
UNAVAILABLE_RETRY_AFTER = "10"


def match(method: str, segments: list[str]) -> tuple[Endpoint, list[str]] | None:
    """The endpoint and its path values; literal segments compare case-insensitively."""
    for route_method, pattern, endpoint in ROUTES:
        if route_method != method or len(pattern) != len(segments):
            continue
        values: list[str] = []
        for part, segment in zip(pattern, segments, strict=True):
            if part == "{}":
                values.append(segment)
            elif part != segment.lower():
                break
        else:
            return endpoint, values
    return None


async def handle(req: func.HttpRequest, clients: ClientSource) -> func.HttpResponse:
    """The HTTP Function behind `/runtime/webhooks/durabletask/{*path}` (see
    `durable.client.links` for where it is on Azure); `clients(task_hub, connection)` gives
    the client of the hub a request names."""
    try:
        request = ApiRequest.of(req)
        found = match(request.method, request.segments)
        if found is None:
            path = "/".join(request.segments)
            message = f"No management API endpoint for {request.method} /{path}."
            raise ManagementApiError(404, message)
        endpoint, values = found
        return await endpoint(Call.of(req, request, clients), *values)
    except Exception as exc:  # every failure becomes a JSON answer
        return _error_response(exc, req)


def _error_response(exc: Exception, req: func.HttpRequest) -> func.HttpResponse:
    error = _as_api_error(exc)
    if error.status == 503:
        log.warning("Management API %s %s: %s", req.method, req.url, error.message)
        headers = {"Retry-After": UNAVAILABLE_RETRY_AFTER}
        return links.json_response(error.body(), error.status, headers)
    if error.status >= 500:
        log.error("Management API %s %s failed", req.method, req.url, exc_info=exc)
    return links.json_response(error.body(), error.status)


def _as_api_error(exc: Exception) -> ManagementApiError:
    if isinstance(exc, ManagementApiError):
        return exc
    if isinstance(exc, InstanceNotFoundError):
        return ManagementApiError(404, str(exc))
    if isinstance(exc, InstanceAlreadyExistsError | InvalidInstanceStateError):
        return ManagementApiError(409, str(exc))
    if isinstance(exc, StorageUnavailableError):
        return ManagementApiError(503, str(exc))  # names the endpoint, never the account key
    if isinstance(exc, TaskHubError):
        return ManagementApiError(500, GENERIC_500)
    if isinstance(exc, ValueError):
        return bad_request(str(exc), type(exc).__name__)
    return ManagementApiError(500, GENERIC_500)
