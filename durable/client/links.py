"""Where the management API is, and the links `create_check_status_response` hands out.

Locally (our emulator, like `func start`, sets `FUNCTIONS_CORETOOLS_ENVIRONMENT`) the API is
where Durable Functions has it: `http://localhost:7071/runtime/webhooks/durabletask/...`.

On Azure it cannot be: the Functions host refuses any Function whose route starts with
`runtime` or `admin` ("The specified route conflicts with one or more built in routes",
`ScriptHost.ValidateHttpFunction` in azure-functions-host), and the real
`/runtime/webhooks/durabletask` belongs to the Durable extension, which a deployed app of
ours does not load. So the API is an ordinary HTTP Function with the route
`webhooks/durabletask/{*path}`, auth level FUNCTION, served under the route prefix:

    https://<app>.azurewebsites.net/api/webhooks/durabletask/instances/<id>?code=<key>

(`api` is host.json `extensions.http.routePrefix`). The links carry the `code` the incoming
request was called with (its `code` query parameter or `x-functions-key` header), which
works when that key is a host key (e.g. `default`); a key of one Function is not valid for
another.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import azure.functions as func

from durable.storage.settings import read_host_json

LOCAL_WEBHOOK_PATH = "/runtime/webhooks/durabletask"
LOCAL_ROUTE = "runtime/webhooks/durabletask/{*path}"
AZURE_ROUTE = "webhooks/durabletask/{*path}"
DEFAULT_ROUTE_PREFIX = "api"
# The connection name Durable Functions puts in its links for the default storage account.
DEFAULT_CONNECTION_PARAM = "Storage"
DEFAULT_CONNECTION_NAME = "AzureWebJobsStorage"
CHECK_STATUS_RETRY_AFTER = "10"


def is_local() -> bool:
    return os.environ.get("FUNCTIONS_CORETOOLS_ENVIRONMENT", "").lower() in ("true", "1")


def management_route() -> str:
    """The route of the management Function (see the module docstring for why two)."""
    return LOCAL_ROUTE if is_local() else AZURE_ROUTE


def route_prefix() -> str:
    http = read_host_json().get("extensions", {}).get("http", {})
    prefix = http.get("routePrefix", DEFAULT_ROUTE_PREFIX) if isinstance(http, dict) else None
    return str(prefix if prefix is not None else DEFAULT_ROUTE_PREFIX).strip("/")


def webhook_path() -> str:
    """The URL path the management API is served at, in this environment."""
    if is_local():
        return LOCAL_WEBHOOK_PATH
    prefix = route_prefix()
    route = AZURE_ROUTE.removesuffix("/{*path}")
    return f"/{prefix}/{route}" if prefix else f"/{route}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"request URL {url!r} is not absolute; cannot build management links")
    return f"{parts.scheme}://{parts.netloc}"


def default_origin() -> str:
    """For links built without a request: the app's own host name, as the host sets it."""
    host = os.environ.get("WEBSITE_HOSTNAME") or "localhost:7071"
    scheme = "http" if is_local() or host.startswith(("localhost", "127.")) else "https"
    return f"{scheme}://{host}"


def function_key(req: Any) -> str | None:
    """The key the caller used, to pass on in the links (None when there was none)."""
    params = getattr(req, "params", None) or {}
    code = params.get("code")
    if not code:
        code = dict(_query_of(getattr(req, "url", "") or "")).get("code")
    if not code:
        headers = getattr(req, "headers", None) or {}
        code = headers.get("x-functions-key")
    return str(code) if code else None


def _query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def connection_param(connection_name: str | None) -> str:
    if not connection_name or connection_name == DEFAULT_CONNECTION_NAME:
        return DEFAULT_CONNECTION_PARAM
    return connection_name


def query_suffix(task_hub: str, connection: str, code: str | None) -> str:
    pairs = [("taskHub", task_hub), ("connection", connection)]
    if code:
        pairs.append(("code", code))
    return urlencode(pairs)


def management_urls(base: str, instance_id: str, query: str) -> dict[str, str]:
    """Durable Functions' HttpManagementPayload for one instance (placeholders kept)."""
    url = f"{base}/instances/{quote(instance_id, safe='')}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{url}?{query}",
        "sendEventPostUri": f"{url}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{url}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{url}/rewind?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{url}?{query}",
        "restartPostUri": f"{url}/restart?{query}",
        "suspendPostUri": f"{url}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{url}/resume?reason={{text}}&{query}",
    }


def json_response(
    body: Any, status_code: int, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return func.HttpResponse(
        json.dumps(body),
        status_code=status_code,
        headers=all_headers,
        mimetype="application/json",
    )


def final_status_response(status: Any, failed_code: int) -> func.HttpResponse | None:
    """The answer for a finished instance: 200 with its output when Completed, else its
    status JSON (200, or `failed_code` when Failed); None while it still runs."""
    kind = status.runtime_status.value if status and status.runtime_status else None
    if kind == "Completed":
        return json_response(status.output, 200)
    if kind == "Failed":
        return json_response(status.to_json(), failed_code)
    if kind in ("Terminated", "Canceled"):
        return json_response(status.to_json(), 200)
    return None


def check_status_response(payload: dict[str, str]) -> func.HttpResponse:
    """202 with the links, `Location` = the status URL and `Retry-After: 10`, as DF."""
    headers = {
        "Location": payload["statusQueryGetUri"],
        "Retry-After": CHECK_STATUS_RETRY_AFTER,
    }
    return json_response(payload, 202, headers)
