"""Durable Functions' HTTP management API as an ordinary HTTP Function.

`register_management_api` adds one HTTP-triggered Function (every method, auth level
FUNCTION) whose handler, `handle`, serves the `/runtime/webhooks/durabletask/...` endpoints:
instance status and lists, raise event, terminate, suspend, resume, rewind, restart, purge,
and starting orchestrators. Locally it is at `/runtime/webhooks/durabletask/...`, as with
Durable Functions; on Azure at `/api/webhooks/durabletask/...?code=<key>`, because the
Functions host reserves routes that start with `runtime` (see `durable.client.links`).
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

from durable.app.root import process
from durable.client.links import management_route
from durable.http import router

FUNCTION_NAME = "durable_management_api"
# Every method, so that one no endpoint takes gets Durable Functions' JSON 404 from the
# handler rather than the host's bodiless 405.
METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS")

__all__ = ["FUNCTION_NAME", "handle", "register_management_api"]


async def handle(req: func.HttpRequest) -> func.HttpResponse:
    """Answer one management API request with this process's clients."""
    return await router.handle(req, process.client)


def register_management_api(container: Any) -> None:
    """Add the management Function to a `DFApp`/`Blueprint` (`register_dispatchers` does)."""

    async def durable_management_api(req: func.HttpRequest) -> func.HttpResponse:
        return await handle(req)

    container.function_name(FUNCTION_NAME)(
        container.route(
            route=management_route(),
            methods=list(METHODS),
            auth_level=func.AuthLevel.FUNCTION,
        )(durable_management_api)
    )
