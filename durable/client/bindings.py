"""The SDK's `durableClient` binding string, read into our client settings.

With the SDK, a client function receives the binding as a JSON string and builds its client
with `DurableOrchestrationClient(binding_string)`. The string names the task hub
(`taskHubName`), and its management URLs carry the connection (`connection=` in their query)
and the base URL of the management API. Our client talks to storage directly, so it takes
the hub and the connection from there and keeps the base URL's origin for the links it
builds without a request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from durable.client import links
from durable.errors import DurableError
from durable.storage.settings import TaskHubSettings, load_settings


class ClientBindingError(DurableError):
    """The durableClient binding string could not be read (what is wrong is in the message)."""


@dataclass(frozen=True)
class ClientBinding:
    """What a binding string says: the hub, the connection's app setting, the API origin."""

    task_hub: str | None
    connection_name: str | None
    origin: str | None

    def settings(self) -> TaskHubSettings:
        """Task hub settings of the app (host.json), with the binding's hub and connection."""
        return load_settings(self.task_hub, self.connection_name)


def parse_binding(binding: str) -> ClientBinding:
    """Read a durableClient binding string (JSON)."""
    try:
        data = json.loads(binding)
    except ValueError as exc:
        raise ClientBindingError(
            f"DurableOrchestrationClient(context) takes the durableClient binding's JSON "
            f"string, or TaskHubSettings; the string is not JSON: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ClientBindingError("The durableClient binding string must be a JSON object.")
    hub = data.get("taskHubName")
    urls = data.get("managementUrls") or data.get("creationUrls") or {}
    sample = _first_url(urls) or str(data.get("baseUrl") or "")
    return ClientBinding(
        task_hub=str(hub) if hub else None,
        connection_name=_connection_of(sample),
        origin=_origin_of(str(data.get("baseUrl") or sample)),
    )


def _first_url(urls: Any) -> str | None:
    if not isinstance(urls, dict):
        return None
    return next((u for u in urls.values() if isinstance(u, str) and "://" in u), None)


def _connection_of(url: str) -> str | None:
    """The app setting of `connection=` (Durable Functions' `Storage` is the default one)."""
    values = parse_qs(urlsplit(url).query).get("connection") if url else None
    if not values or values[0] in (links.DEFAULT_CONNECTION_PARAM, ""):
        return None
    return values[0]


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
