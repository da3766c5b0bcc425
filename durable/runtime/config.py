"""Where the app's host.json is, and the task hub settings it gives.

The app's folder is `AzureWebJobsScriptRoot` when a host sets it (Azure and our emulator do),
else the current directory, which is where a Functions host runs the app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from durable.storage.settings import TaskHubSettings


def script_root() -> Path:
    return Path(os.environ.get("AzureWebJobsScriptRoot") or os.getcwd())


def read_host_json(root: Path | None = None) -> dict[str, Any]:
    path = (root or script_root()) / "host.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


def load_settings(
    task_hub: str | None = None, connection_name: str | None = None
) -> TaskHubSettings:
    """Settings for the app's task hub; `task_hub`/`connection_name` override host.json,
    as `durable_client_input(task_hub=, connection_name=)` does."""
    host = read_host_json()
    if task_hub or connection_name:
        host = json.loads(json.dumps(host))
        dt = host.setdefault("extensions", {}).setdefault("durableTask", {})
        if task_hub:
            dt["hubName"] = task_hub
        if connection_name:
            dt.setdefault("storageProvider", {})["connectionName"] = connection_name
    return TaskHubSettings.from_host_json(host, os.environ)


def load_layout() -> TaskHubSettings:
    """Settings for naming the dispatchers' queues at import time.

    Indexing an app (`get_functions()`) must work where no connection string is configured
    yet (a build machine, a unit test), so a missing connection setting is tolerated here;
    it is required when something actually connects (`load_settings`).
    """
    host = read_host_json()
    env = dict(os.environ)
    probe = TaskHubSettings.from_host_json
    try:
        return probe(host, env)
    except ValueError as exc:
        if "is not set" not in str(exc) or "app setting" not in str(exc):
            raise
    for name in ("AzureWebJobsStorage", *_named_connections(host)):
        env.setdefault(name, "UseDevelopmentStorage=true")
    return probe(host, env)


def _named_connections(host: dict[str, Any]) -> list[str]:
    dt = host.get("extensions", {}).get("durableTask", {}) if isinstance(host, dict) else {}
    provider = dt.get("storageProvider", {}) if isinstance(dt, dict) else {}
    names = [provider.get("connectionName"), provider.get("connectionStringName")]
    return [n for n in names if isinstance(n, str) and n]


# The Functions queue trigger's default (host.json `extensions.queues.maxDequeueCount`).
DEFAULT_MAX_DEQUEUE_COUNT = 5


def max_dequeue_count(root: Path | None = None) -> int:
    """After this many dequeues the Functions queue trigger moves a message to its poison
    queue; host.json keys are case-insensitive, as in the Functions host."""
    try:
        host = read_host_json(root)
    except ValueError:
        return DEFAULT_MAX_DEQUEUE_COUNT
    section: Any = host
    for key in ("extensions", "queues", "maxDequeueCount"):
        if not isinstance(section, dict):
            return DEFAULT_MAX_DEQUEUE_COUNT
        section = next((v for k, v in section.items() if k.lower() == key.lower()), None)
    if isinstance(section, int) and not isinstance(section, bool) and section >= 1:
        return section
    return DEFAULT_MAX_DEQUEUE_COUNT
