"""A management API request: its path under the webhook, its query (case-insensitive, as
Durable Functions reads it) and typed parameters that fail with a 400 naming the problem."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import azure.functions as func

from durable.core.status import OrchestrationRuntimeStatus
from durable.errors import ManagementApiError

WEBHOOK_MARKER = "/webhooks/durabletask"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def bad_request(detail: str, exc_type: str = "ValueError") -> ManagementApiError:
    """Durable Functions' 400 body for a bad argument, with the reason in ExceptionMessage."""
    return ManagementApiError(
        400,
        "One or more of the arguments submitted is incorrect",
        ExceptionMessage=detail,
        ExceptionType=exc_type,
    )


@dataclass
class ApiRequest:
    method: str
    url: str
    segments: list[str]
    query: dict[str, str]
    headers: Any
    body: bytes

    @staticmethod
    def of(req: func.HttpRequest) -> ApiRequest:
        query = {k.lower(): v for k, v in parse_qsl(urlsplit(req.url).query)}
        query.update({k.lower(): v for k, v in (req.params or {}).items()})
        return ApiRequest(
            method=req.method.upper(),
            url=req.url,
            segments=_segments(req),
            query=query,
            headers=req.headers,
            body=req.get_body() or b"",
        )

    @property
    def base_url(self) -> str:
        """The URL of the API root as this request reached it, for links in answers."""
        parts = urlsplit(self.url)
        path = parts.path
        at = path.lower().find(WEBHOOK_MARKER)
        root = path[: at + len(WEBHOOK_MARKER)] if at >= 0 else ""
        return f"{parts.scheme}://{parts.netloc}{root}"

    def text(self, name: str) -> str | None:
        value = self.query.get(name.lower())
        return value if value not in (None, "") else None

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise bad_request(f"Query parameter '{name}' must be true or false, got {value!r}.")

    def number(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise bad_request(
                f"Query parameter '{name}' must be a number, got {value!r}."
            ) from None
        if number < 0:
            raise bad_request(f"Query parameter '{name}' must not be negative, got {value!r}.")
        return number

    def time(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            raise bad_request(
                f"Query parameter '{name}' must be an ISO 8601 date and time "
                f"(e.g. 2024-01-31T12:00:00Z), got {value!r}."
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def statuses(self, name: str) -> list[OrchestrationRuntimeStatus] | None:
        value = self.text(name)
        if value is None:
            return None
        by_name = {s.value.lower(): s for s in OrchestrationRuntimeStatus}
        wanted: list[OrchestrationRuntimeStatus] = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if part.lower() not in by_name:
                known = ", ".join(s.value for s in OrchestrationRuntimeStatus)
                raise bad_request(f"Unknown runtime status {part!r} in '{name}' (known: {known}).")
            wanted.append(by_name[part.lower()])
        return wanted or None

    def json_body(self) -> Any:
        """The body as JSON; an empty body is null."""
        text = self.body.decode("utf-8-sig", errors="strict").strip() if self.body else ""
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}.") from None
        except RecursionError:
            raise bad_request("The request body nests JSON arrays or objects too deeply.") from None


def _segments(req: func.HttpRequest) -> list[str]:
    """The path below the webhook root: from the catch-all route value when the host gave
    one, else from the URL (a host that calls the handler with the full path)."""
    route_params = req.route_params or {}
    if "path" in route_params:
        path = route_params["path"] or ""
        return [s for s in path.split("/") if s]
    path = urlsplit(req.url).path
    at = path.lower().find(WEBHOOK_MARKER)
    rest = path[at + len(WEBHOOK_MARKER) :] if at >= 0 else path
    return [unquote(s) for s in rest.split("/") if s]
