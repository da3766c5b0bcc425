"""host.json and local.settings.json, read and checked as the Functions host and Core Tools do.

Only the keys the emulator acts on are validated in depth; every error names the file and
the key (or the JSON error with its line and column).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.errors import ConfigError

DEFAULT_PORT = 7071
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$")


@dataclass(frozen=True)
class QueueOptions:
    """`extensions.queues` of host.json (version 2.0 schema), with the Functions defaults."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: float = 60.0  # seconds
    visibility_timeout: float = 0.0  # seconds before a failed message is retried
    max_dequeue_count: int = 5
    message_encoding: str = "base64"  # or "none"


def _default_parallelism() -> int:
    return 8 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class BlobOptions:
    """`extensions.blobs` of host.json (blob extension 5.x), with the Functions defaults."""

    max_degree_of_parallelism: int = field(default_factory=_default_parallelism)
    poison_blob_threshold: int = 5

    def as_queue_options(self) -> QueueOptions:
        """The blob trigger's internal queue runs with these options, derived as the blob
        extension derives them: the batch half of the parallelism (at most 32), the rest as
        the new-batch threshold, poisonBlobThreshold as maxDequeueCount."""
        batch = min(32, (self.max_degree_of_parallelism + 2) // 2)
        return QueueOptions(batch_size=batch,
                            new_batch_threshold=self.max_degree_of_parallelism - batch,
                            max_dequeue_count=self.poison_blob_threshold)


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)
    blobs: BlobOptions = field(default_factory=BlobOptions)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalSettings:
    values: dict[str, str] = field(default_factory=dict)
    connection_strings: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    cors_origins: tuple[str, ...] = ()
    cors_credentials: bool = False
    found: bool = False


def read_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error becomes a ConfigError with line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None


def load_host_config(app_dir: Path) -> HostConfig:
    path = app_dir / "host.json"
    if not path.is_file():
        raise ConfigError(
            f"No host.json in {app_dir}.",
            'Create one with at least {"version": "2.0"} (see https://aka.ms/functions-hostjson).',
        )
    data = read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object.")
    version = data.get("version")
    if version != "2.0":
        what = "is missing the required 'version' property" if version is None else (
            f"has version {json.dumps(version)}"
        )
        raise ConfigError(
            f"{path} {what}; the Functions host needs \"version\": \"2.0\".",
            "See https://aka.ms/functions-hostjson for the 2.0 schema.",
        )
    extensions = _object(data, "extensions", path)
    http = _object(extensions, "http", path, "extensions.")
    prefix = http.get("routePrefix", "api")
    if not isinstance(prefix, str):
        raise ConfigError(f"{path}: extensions.http.routePrefix must be a string, got {prefix!r}.")
    queues = _queue_options(_object(extensions, "queues", path, "extensions."), path)
    blobs = _blob_options(_object(extensions, "blobs", path, "extensions."), path)
    return HostConfig(route_prefix=prefix.strip("/"), queues=queues, blobs=blobs, raw=data)


def _blob_options(section: dict[str, Any], path: Path) -> BlobOptions:
    where = f"{path}: extensions.blobs."
    parallelism = _int(section, "maxDegreeOfParallelism", _default_parallelism(), 1, 10_000,
                       where)
    threshold = _int(section, "poisonBlobThreshold", 5, 1, 10_000, where)
    return BlobOptions(parallelism, threshold)


def _object(parent: dict[str, Any], key: str, path: Path, prefix: str = "") -> dict[str, Any]:
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {prefix}{key} must be a JSON object, got {value!r}.")
    return value


def _queue_options(section: dict[str, Any], path: Path) -> QueueOptions:
    where = f"{path}: extensions.queues."
    batch = _int(section, "batchSize", 16, 1, 32, where)
    threshold = _int(section, "newBatchThreshold", batch // 2, 0, 10_000, where)
    polling = _timespan(section, "maxPollingInterval", 60.0, where)
    if polling < 0.1:
        raise ConfigError(f"{where}maxPollingInterval must be at least 00:00:00.100.")
    visibility = _timespan(section, "visibilityTimeout", 0.0, where)
    dequeue = _int(section, "maxDequeueCount", 5, 1, 10_000, where)
    encoding = section.get("messageEncoding", "base64")
    if not isinstance(encoding, str) or encoding.lower() not in ("base64", "none"):
        raise ConfigError(
            f"{where}messageEncoding must be \"base64\" or \"none\", got {encoding!r}."
        )
    return QueueOptions(batch, threshold, polling, visibility, dequeue, encoding.lower())


def _int(section: dict[str, Any], key: str, default: int, low: int, high: int, where: str) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}{key} must be an integer from {low} to {high}, got {value!r}.")
    return value


def _timespan(section: dict[str, Any], key: str, default: float, where: str) -> float:
    value = section.get(key)
    if value is None:
        return default
    seconds = parse_timespan(value) if isinstance(value, str) else None
    if seconds is None:
        raise ConfigError(
            f"{where}{key} must be a TimeSpan string like \"00:00:02\" (hh:mm:ss), got {value!r}."
        )
    return seconds


def parse_timespan(text: str) -> float | None:
    """Seconds in a .NET TimeSpan string (`[d.]hh:mm:ss[.fffffff]`), or None if malformed."""
    found = _TIMESPAN.match(text.strip())
    if not found:
        return None
    days, hours, minutes, seconds, fraction = found.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        return None
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def load_local_settings(app_dir: Path) -> LocalSettings:
    path = app_dir / "local.settings.json"
    if not path.is_file():
        return LocalSettings()
    data = read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a JSON object.")
    if data.get("IsEncrypted") is True:
        raise ConfigError(
            f"{path} is encrypted.", "Decrypt it with `func settings decrypt` first."
        )
    values = _string_map(data, "Values", path)
    connections = _string_map(data, "ConnectionStrings", path)
    host = _object(data, "Host", path)
    port = host.get("LocalHttpPort")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or
                             not 0 < port < 65536):
        raise ConfigError(f"{path}: Host.LocalHttpPort must be a port number, got {port!r}.")
    cors = host.get("CORS", "")
    if not isinstance(cors, str):
        raise ConfigError(f"{path}: Host.CORS must be a comma-separated string, got {cors!r}.")
    origins = tuple(o.strip().rstrip("/") for o in cors.split(",") if o.strip())
    credentials = host.get("CORSCredentials", False)
    if not isinstance(credentials, bool):
        raise ConfigError(f"{path}: Host.CORSCredentials must be true or false.")
    return LocalSettings(values, connections, port, origins, credentials, found=True)


def _string_map(data: dict[str, Any], key: str, path: Path) -> dict[str, str]:
    section = _object(data, key, path)
    result: dict[str, str] = {}
    for name, value in section.items():
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{path}: {key}.{name} must be a string, got {json.dumps(value)}.")
        if value is None:
            result[name] = ""
        else:
            result[name] = value if isinstance(value, str) else json.dumps(value)
    return result


def apply_environment(local: LocalSettings, app_dir: Path, port: int) -> None:
    """Export settings as Core Tools does: `Values` unless already set, plus the host's own."""
    for name, value in local.values.items():
        os.environ.setdefault(name, value)
    os.environ["FUNCTIONS_CORETOOLS_ENVIRONMENT"] = "true"
    os.environ["AzureWebJobsScriptRoot"] = str(app_dir)  # noqa: SIM112 (the host's name)
    os.environ.setdefault("WEBSITE_HOSTNAME", f"localhost:{port}")


def resolve_setting(name: str, local: LocalSettings) -> str | None:
    """An app setting or connection by name, looked up as the host resolves `connection`:
    the setting itself, then `AzureWebJobs<name>`, then `ConnectionStrings:<name>`."""
    for candidate in (name, f"AzureWebJobs{name}"):
        value = os.environ.get(candidate)
        if value:
            return value
    return local.connection_strings.get(name) or None


def expand_settings(text: str, local: LocalSettings, what: str) -> str:
    """Replace `%Setting%` references (binding expressions over app settings)."""

    def replace(found: re.Match[str]) -> str:
        value = resolve_setting(found.group(1), local)
        if value is None:
            raise ConfigError(
                f"{what} refers to the app setting '%{found.group(1)}%', which is not set."
            )
        return value

    return re.sub(r"%([^%]+)%", replace, text)
