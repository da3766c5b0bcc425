"""Serving the dashboard's page from the management-API function.

The page is one HTML document with its stylesheet and script inlined when served: on Azure
every request to the function needs the key (`?code=`), and a browser would not add it to
`<script src>` or `<link href>`, so one document carries everything and its script adds the
key to each API call it makes. Nothing is fetched from elsewhere; a Content-Security-Policy
keeps it so. The settings (host.json `extensions.durableTask.dashboard`) go into the page as
JSON: `readOnly` hides every action, `enabled: false` removes the dashboard (404).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from importlib import resources
from typing import Any

import azure.functions as func

from durable.errors import ManagementApiError
from durable.http.calls import Call
from durable.storage.settings import read_host_json, with_app_setting_overrides

SETTINGS_PATH = "extensions.durableTask.dashboard"
STATIC_PACKAGE = "durable.http.dashboard"
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([\w.-]+)">')
_SCRIPT = re.compile(r'<script src="([\w.-]+)"></script>')
_CONFIG = '<script id="dashboard-config" type="application/json">{}</script>'
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript",
          ".png": "image/png", ".svg": "image/svg+xml"}


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """host.json `extensions.durableTask.dashboard`: whether there is a dashboard, and
    whether it may act on instances (`readOnly` hides every action button)."""

    enabled: bool = True
    read_only: bool = False

    @staticmethod
    def load() -> DashboardSettings:
        """The app's settings, with `AzureFunctionsJobHost__...` app-setting overrides."""
        host = with_app_setting_overrides(read_host_json(), os.environ)
        section: Any = host
        for key in ("extensions", "durableTask", "dashboard"):
            section = _child(section, key)
        return DashboardSettings(
            enabled=_flag(section, "enabled", True), read_only=_flag(section, "readOnly", False)
        )


def _child(section: Any, key: str) -> Any:
    if not isinstance(section, dict):
        return {}
    found: Any = next((v for k, v in section.items() if k.lower() == key.lower()), {})
    return found if isinstance(found, dict) else {}


def _flag(section: dict[str, Any], key: str, default: bool) -> bool:
    value = next((v for k, v in section.items() if k.lower() == key.lower()), None)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    # The app's configuration is wrong, not the request: a 500 that says what to fix.
    raise ManagementApiError(
        500, f"host.json {SETTINGS_PATH}.{key} must be true or false, got {value!r}."
    )


def settings_or_404() -> DashboardSettings:
    """The settings; a 404 when the dashboard is switched off."""
    settings = DashboardSettings.load()
    if not settings.enabled:
        raise ManagementApiError(
            404, f"The dashboard is disabled (host.json {SETTINGS_PATH}.enabled is false)."
        )
    return settings


def static_text(name: str) -> str:
    """One of the dashboard's files shipped in the package."""
    return (resources.files(STATIC_PACKAGE) / "static" / name).read_text(encoding="utf-8")


def static_names() -> list[str]:
    """The files that `dashboard/{name}` serves."""
    folder = resources.files(STATIC_PACKAGE) / "static"
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def render(settings: DashboardSettings, task_hub: str, nonce: str) -> str:
    """The page with its stylesheet, script and settings inlined."""
    config = json.dumps({"readOnly": settings.read_only, "taskHub": task_hub})
    html = static_text("index.html")
    html = _STYLESHEET.sub(lambda m: f"<style>\n{static_text(m[1])}</style>", html)
    html = _SCRIPT.sub(
        lambda m: f'<script nonce="{nonce}">\n{_inline_script(static_text(m[1]))}</script>', html
    )
    safe = config.replace("<", "\\u003c")
    return html.replace(
        _CONFIG, f'<script id="dashboard-config" type="application/json">{safe}</script>'
    )


def _inline_script(text: str) -> str:
    """A script made safe to sit inside <script>: no `</script` can end the element early
    (inside JavaScript strings `<\\/` means the same)."""
    return _SCRIPT_END.sub(r"<\\/\1", text)


def _security_headers(nonce: str) -> dict[str, str]:
    policy = (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


async def index(call: Call) -> func.HttpResponse:
    """`GET dashboard/` (or without the slash): the page. It has no relative links (all is
    inlined, and its script finds the API root in its own path), so both URLs work and no
    redirect depends on how a host passes the trailing slash on."""
    settings = settings_or_404()
    nonce = secrets.token_urlsafe(16)
    body = render(settings, call.client.task_hub_name, nonce)
    return func.HttpResponse(
        body, status_code=200, mimetype="text/html", charset="utf-8",
        headers=_security_headers(nonce),
    )


async def asset(call: Call, name: str) -> func.HttpResponse:
    """`GET dashboard/{file}`: one of the page's files as shipped (for people reading them)."""
    settings_or_404()
    if name not in static_names():
        raise ManagementApiError(404, f"The dashboard has no file named {name!r}.")
    suffix = name[name.rfind("."):] if "." in name else ""
    return func.HttpResponse(
        static_text(name), status_code=200, mimetype=_TYPES.get(suffix, "text/plain"),
        charset="utf-8", headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
