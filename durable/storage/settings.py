"""The one settings loader: host.json `extensions.durableTask` read the way Durable Functions
reads it, and where the app's host.json is.

Reading host.json here (rather than in the host) keeps one definition of the defaults, so the
local host and a deployed app resolve the same hub from the same files. The app's folder is
`AzureWebJobsScriptRoot` when a host sets it (Azure and our emulator do), else the current
directory, which is where a Functions host runs the app.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from durable.core.versioning import VersionFailureStrategy, VersionMatchStrategy
from durable.errors import SettingsError
from durable.storage.names import sanitize_hub_name, validate_hub_name
from durable.storage.partitions import MAX_PARTITIONS, MIN_PARTITIONS
from durable.storage.transport import connection_parts

DEFAULT_HUB_NAME = "TestHubName"
DEFAULT_CONNECTION_NAME = "AzureWebJobsStorage"
DEFAULT_PARTITION_COUNT = 4
# Azure queues hide a message for at most 7 days; DF caps one timer message at 6 days and
# chains longer timers.
QUEUE_MAX_VISIBILITY = timedelta(days=7)
DEFAULT_MAX_CHAIN_DELAY = timedelta(days=6)

DEV_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://{host}:10000/devstoreaccount1;"
    "QueueEndpoint=http://{host}:10001/devstoreaccount1;"
    "TableEndpoint=http://{host}:10002/devstoreaccount1;"
)

_KEY = "extensions.durableTask"
_APP_SETTING_REF = re.compile(r"^%([^%]+)%$")
# The Functions queue trigger's default (host.json `extensions.queues.maxDequeueCount`).
DEFAULT_MAX_DEQUEUE_COUNT = 5


class MissingConnectionSettingError(ValueError):
    """The app setting that should hold the storage connection string is not set."""


def _default_concurrency() -> int:
    return 10 * (os.cpu_count() or 1)


class LiveSessionCheck(StrEnum):
    """How often an episode served from a live session is checked against a replay of the
    instance's history (host.json `verifyLiveSessions`)."""

    ALWAYS = "always"
    SAMPLED = "sampled"
    OFF = "off"


def _default_live_check() -> LiveSessionCheck:
    """Always under a local host (ours, like `func start`, sets this variable), else off."""
    local = bool(os.environ.get("FUNCTIONS_CORETOOLS_ENVIRONMENT"))
    return LiveSessionCheck.ALWAYS if local else LiveSessionCheck.OFF


def _default_entity_batch() -> int:
    """Durable Functions' default: 50 operations per batch on Consumption, else 5000."""
    return 50 if os.environ.get("WEBSITE_SKU", "").lower() == "dynamic" else 5000


@dataclass(frozen=True, slots=True)
class TaskHubSettings:
    hub_name: str
    connection_string: str = field(repr=False)
    partition_count: int = DEFAULT_PARTITION_COUNT
    max_chain_delay: timedelta = DEFAULT_MAX_CHAIN_DELAY
    max_concurrent_activity_functions: int = field(default_factory=_default_concurrency)
    max_concurrent_orchestrator_functions: int = field(default_factory=_default_concurrency)
    extended_sessions_enabled: bool = True
    extended_session_idle_timeout: timedelta = timedelta(seconds=30)
    connection_name: str = DEFAULT_CONNECTION_NAME
    # How long a work item stays hidden while the host that scheduled it runs it in-process
    # (DF's storageProvider.workItemQueueVisibilityTimeout): after a crash, another host runs
    # the activity once this has passed.
    work_item_visibility: timedelta = timedelta(minutes=5)
    # After this many dequeues the Functions queue trigger moves a message to its poison
    # queue (host.json `extensions.queues.maxDequeueCount`); the worker keeps durable
    # messages out of it (see `DurableWorker._requeued`).
    max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT
    # Entities (Durable Functions' host.json names and defaults).
    max_concurrent_entity_functions: int = field(default_factory=_default_concurrency)
    max_entity_operation_batch_size: int = field(default_factory=_default_entity_batch)
    rollback_entity_operations_on_exceptions: bool = True
    entity_message_reorder_window: timedelta = timedelta(minutes=30)
    # Replaying episodes that live sessions served, to catch non-deterministic orchestrators
    # while developing (see runtime/verification.py); a share of them when sampled.
    verify_live_sessions: LiveSessionCheck = field(default_factory=_default_live_check)
    verify_live_sessions_sample_rate: float = 0.1
    # Activities of one orchestration queued and unanswered at most; the rest of a larger
    # fan-out is sent as answers come in (host.json `maxQueuedActivitiesPerOrchestration`,
    # ours: Durable Functions queues them all; see runtime/outbox.py).
    max_queued_activities_per_orchestration: int = 1000
    # call_http: how long to wait before polling a 202 without Retry-After (host.json
    # httpSettings.defaultAsyncRequestSleepTimeMilliseconds, Durable Functions' 30 s).
    http_default_async_request_sleep: timedelta = timedelta(milliseconds=30000)
    # Orchestration versioning (see core/versioning.py): the version new orchestrations get
    # when none is given, which is also this host's version for the match strategy.
    default_version: str | None = None
    version_match_strategy: VersionMatchStrategy = VersionMatchStrategy.CURRENT_OR_OLDER
    version_failure_strategy: VersionFailureStrategy = VersionFailureStrategy.REJECT

    def __post_init__(self) -> None:
        validate_hub_name(self.hub_name)
        if not self.connection_string:
            raise ValueError("connection_string must not be empty")
        if not MIN_PARTITIONS <= self.partition_count <= MAX_PARTITIONS:
            raise ValueError(
                f"partition_count must be {MIN_PARTITIONS}..{MAX_PARTITIONS}, "
                f"got {self.partition_count}"
            )
        if not timedelta(0) < self.max_chain_delay <= QUEUE_MAX_VISIBILITY:
            raise ValueError(
                f"max_chain_delay must be positive and at most {QUEUE_MAX_VISIBILITY} "
                f"(the queue's visibility limit), got {self.max_chain_delay}"
            )
        if not 0.0 <= self.verify_live_sessions_sample_rate <= 1.0:
            raise ValueError(
                "verifyLiveSessionsSampleRate must be between 0 and 1, got "
                f"{self.verify_live_sessions_sample_rate}"
            )
        for name in ("max_concurrent_activity_functions", "max_concurrent_orchestrator_functions",
                     "max_concurrent_entity_functions", "max_entity_operation_batch_size",
                     "max_queued_activities_per_orchestration"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @staticmethod
    def from_host_json(
        host_json: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> TaskHubSettings:
        """Settings from a parsed host.json plus app settings (`environ`, default os.environ)."""
        env = os.environ if environ is None else environ
        host_json = with_app_setting_overrides(host_json, env)
        dt = _section(_section(host_json, "extensions", "extensions"), "durableTask", _KEY)
        provider = _section(dt, "storageProvider", f"{_KEY}.storageProvider")
        conn_name = _get(provider, "connectionName") or _get(provider, "connectionStringName")
        conn_name = _str(conn_name, f"{_KEY}.storageProvider.connectionName")
        conn_name = conn_name or DEFAULT_CONNECTION_NAME
        kwargs: dict[str, Any] = {
            "hub_name": _hub_name(_get(dt, "hubName"), env),
            "connection_string": resolve_connection_string(conn_name, env),
            "connection_name": conn_name,
        }
        ints = {
            "partition_count": (provider, "storageProvider.partitionCount", MAX_PARTITIONS),
            "max_concurrent_activity_functions": (dt, "maxConcurrentActivityFunctions", None),
            "max_concurrent_orchestrator_functions": (
                dt,
                "maxConcurrentOrchestratorFunctions",
                None,
            ),
            "max_concurrent_entity_functions": (dt, "maxConcurrentEntityFunctions", None),
            "max_entity_operation_batch_size": (dt, "maxEntityOperationBatchSize", None),
        }
        for attr, (section, key, top) in ints.items():
            value = _get(section, key.rsplit(".", 1)[-1])
            if value is not None:
                kwargs[attr] = _int(value, f"{_KEY}.{key}", top)
        enabled = _get(dt, "extendedSessionsEnabled")
        if enabled is not None:
            kwargs["extended_sessions_enabled"] = _bool(enabled, f"{_KEY}.extendedSessionsEnabled")
        idle = _get(dt, "extendedSessionIdleTimeoutInSeconds")
        if idle is not None:
            seconds = _int(idle, f"{_KEY}.extendedSessionIdleTimeoutInSeconds")
            kwargs["extended_session_idle_timeout"] = timedelta(seconds=seconds)
        visibility = _get(provider, "workItemQueueVisibilityTimeout")
        if visibility is not None:
            path = f"{_KEY}.storageProvider.workItemQueueVisibilityTimeout"
            kwargs["work_item_visibility"] = _timespan(visibility, path)
        rollback = _get(dt, "rollbackEntityOperationsOnExceptions")
        if rollback is not None:
            path = f"{_KEY}.rollbackEntityOperationsOnExceptions"
            kwargs["rollback_entity_operations_on_exceptions"] = _bool(rollback, path)
        window = _get(dt, "entityMessageReorderWindowInMinutes")
        if window is not None:
            minutes = _int(window, f"{_KEY}.entityMessageReorderWindowInMinutes")
            kwargs["entity_message_reorder_window"] = timedelta(minutes=minutes)
        kwargs.update(_live_session_check(dt, env))
        queued = _get(dt, "maxQueuedActivitiesPerOrchestration")
        if queued is not None:
            kwargs["max_queued_activities_per_orchestration"] = _int(
                queued, f"{_KEY}.maxQueuedActivitiesPerOrchestration")
        http = _section(dt, "httpSettings", f"{_KEY}.httpSettings")
        sleep = _get(http, "defaultAsyncRequestSleepTimeMilliseconds")
        if sleep is not None:
            ms = _int(sleep, f"{_KEY}.httpSettings.defaultAsyncRequestSleepTimeMilliseconds")
            kwargs["http_default_async_request_sleep"] = timedelta(milliseconds=ms)
        kwargs.update(_versioning(dt))
        kwargs["max_dequeue_count"] = _max_dequeue_count(host_json)
        try:
            return TaskHubSettings(**kwargs)
        except ValueError as exc:
            raise ValueError(f"host.json {_KEY}: {exc}") from exc


def _live_session_check(dt: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    mode = _get(dt, "verifyLiveSessions")
    if mode is not None:
        choices = [m.value for m in LiveSessionCheck]
        if not isinstance(mode, str) or mode.lower() not in choices:
            raise ValueError(
                f"host.json {_KEY}.verifyLiveSessions must be one of {', '.join(choices)}, "
                f"got {mode!r}"
            )
        out["verify_live_sessions"] = LiveSessionCheck(mode.lower())
    elif env.get("FUNCTIONS_CORETOOLS_ENVIRONMENT"):
        out["verify_live_sessions"] = LiveSessionCheck.ALWAYS
    else:
        out["verify_live_sessions"] = LiveSessionCheck.OFF
    rate = _get(dt, "verifyLiveSessionsSampleRate")
    if rate is not None:
        try:
            if isinstance(rate, bool) or not isinstance(rate, int | float | str):
                raise ValueError
            out["verify_live_sessions_sample_rate"] = float(rate)
        except ValueError:
            raise ValueError(
                f"host.json {_KEY}.verifyLiveSessionsSampleRate must be a number between 0 "
                f"and 1, got {rate!r}"
            ) from None
    return out


def _versioning(dt: Mapping[str, Any]) -> dict[str, Any]:
    """`defaultVersion` (null or "" is the same as leaving it out, as in Durable Functions),
    `versionMatchStrategy` and `versionFailureStrategy` (names match case-insensitively)."""
    out: dict[str, Any] = {}
    version = _get(dt, "defaultVersion")
    if version is not None:
        if not isinstance(version, str):
            raise SettingsError(
                f"host.json {_KEY}.defaultVersion must be a string such as \"1.0\", got "
                f"{version!r}"
            )
        out["default_version"] = version or None
    for attr, key, enum in (
        ("version_match_strategy", "versionMatchStrategy", VersionMatchStrategy),
        ("version_failure_strategy", "versionFailureStrategy", VersionFailureStrategy),
    ):
        raw = _get(dt, key)
        if raw is None:
            continue
        choices = {m.value.lower(): m for m in enum}
        if not isinstance(raw, str) or raw.lower() not in choices:
            names = ", ".join(m.value for m in enum)
            raise SettingsError(f"host.json {_KEY}.{key} must be one of {names}, got {raw!r}")
        out[attr] = choices[raw.lower()]
    return out


_OVERRIDE_PREFIX = "azurefunctionsjobhost__"


def with_app_setting_overrides(
    host_json: Mapping[str, Any], env: Mapping[str, str]
) -> Mapping[str, Any]:
    """host.json with the Functions host's app-setting overrides applied: a setting named
    `AzureFunctionsJobHost__extensions__durableTask__hubName` replaces that value (keys
    matched case-insensitively), so one deployment can differ from the file."""
    overrides = [(k[len(_OVERRIDE_PREFIX):].split("__"), v) for k, v in env.items()
                 if k.lower().startswith(_OVERRIDE_PREFIX)]
    if not overrides:
        return host_json
    merged: dict[str, Any] = json.loads(json.dumps(host_json))
    for path, value in overrides:
        node = merged
        for part in path[:-1]:
            key = next((k for k in node if k.lower() == part.lower()), part)
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        last = next((k for k in node if k.lower() == path[-1].lower()), path[-1])
        node[last] = value
    return merged


def script_root() -> Path:
    """The app's folder (see the module docstring)."""
    return Path(os.environ.get("AzureWebJobsScriptRoot") or os.getcwd())


def read_host_json(root: Path | None = None) -> dict[str, Any]:
    """The app's host.json as a dict ({} when there is none); ValueError naming the file
    when it is not a JSON object."""
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
    task_hub: str | None = None,
    connection_name: str | None = None,
    environ: Mapping[str, str] | None = None,
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
    return TaskHubSettings.from_host_json(host, os.environ if environ is None else environ)


def load_layout() -> TaskHubSettings:
    """Settings for naming the dispatchers' queues at import time.

    Indexing an app (`get_functions()`) must work where no connection string is configured
    yet (a build machine, a unit test), so a missing connection setting is tolerated here;
    it is required when something actually connects (`load_settings`).
    """
    host = read_host_json()
    try:
        return TaskHubSettings.from_host_json(host, os.environ)
    except MissingConnectionSettingError:
        pass
    env = dict(os.environ)
    for name in (DEFAULT_CONNECTION_NAME, *_named_connections(host)):
        env.setdefault(name, "UseDevelopmentStorage=true")
    return TaskHubSettings.from_host_json(host, env)


def _named_connections(host: Mapping[str, Any]) -> list[str]:
    dt = _get(_get(host, "extensions") or {}, "durableTask") or {}
    provider = _get(dt, "storageProvider") or {} if isinstance(dt, Mapping) else {}
    if not isinstance(provider, Mapping):
        return []
    names = [_get(provider, "connectionName"), _get(provider, "connectionStringName")]
    return [n for n in names if isinstance(n, str) and n]


def _max_dequeue_count(host: Mapping[str, Any]) -> int:
    """host.json keys are case-insensitive, as in the Functions host; a value that is not a
    positive integer leaves the queue trigger's default (the host reports it)."""
    section: Any = host
    for key in ("extensions", "queues", "maxDequeueCount"):
        if not isinstance(section, Mapping):
            return DEFAULT_MAX_DEQUEUE_COUNT
        section = _get(section, key)
    if isinstance(section, int) and not isinstance(section, bool) and section >= 1:
        return section
    return DEFAULT_MAX_DEQUEUE_COUNT


def resolve_connection_string(connection_name: str, environ: Mapping[str, str]) -> str:
    """The connection string held by an app setting; `UseDevelopmentStorage=true` means Azurite."""
    value = environ.get(connection_name)
    if not value:
        raise MissingConnectionSettingError(
            f"app setting {connection_name!r} (named by host.json "
            f"{_KEY}.storageProvider.connectionName, default {DEFAULT_CONNECTION_NAME!r}) "
            "is not set; set it to a storage connection string, or to "
            "'UseDevelopmentStorage=true' for Azurite"
        )
    lowered = connection_parts(value)
    if lowered.get("usedevelopmentstorage", "").lower() == "true":
        proxy = lowered.get("developmentstorageproxyuri")
        host = re.sub(r"^https?://", "", proxy).split(":")[0].rstrip("/") if proxy else None
        return DEV_CONNECTION_STRING.format(host=host or "127.0.0.1")
    return value


def _hub_name(raw: Any, env: Mapping[str, str]) -> str:
    if raw is None or raw == "":
        site = env.get("WEBSITE_SITE_NAME")
        return sanitize_hub_name(site) if site else DEFAULT_HUB_NAME
    name = _str(raw, f"{_KEY}.hubName")
    ref = _APP_SETTING_REF.match(name)
    if ref:
        setting = ref.group(1)
        if not env.get(setting):
            raise ValueError(
                f"host.json {_KEY}.hubName refers to app setting {setting!r}, which is not set"
            )
        name = env[setting]
    try:
        return validate_hub_name(name)
    except ValueError as exc:
        raise ValueError(f"host.json {_KEY}.hubName: {exc}") from exc


def _get(section: Mapping[str, Any], key: str) -> Any:
    """host.json keys are case-insensitive in the Functions host (.NET configuration)."""
    for k, v in section.items():
        if k.lower() == key.lower():
            return v
    return None


def _section(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = _get(parent, key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"host.json {path} must be an object, got {type(value).__name__}")
    return value


def _str(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"host.json {path} must be a string, got {value!r}")
    return value


def _int(value: Any, path: str, top: int | None = None) -> int:
    """An integer >= 1 (and <= top); the .NET binder also accepts digit strings."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError
        number = int(value)
    except ValueError:
        raise ValueError(f"host.json {path} must be an integer, got {value!r}") from None
    if number < 1 or (top is not None and number > top):
        bounds = f"1..{top}" if top is not None else "at least 1"
        raise ValueError(f"host.json {path} must be {bounds}, got {number}")
    return number


def _timespan(value: Any, path: str) -> timedelta:
    """A .NET TimeSpan as host.json writes it: `[d.]hh:mm:ss[.fff]`, at least one second."""
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)", str(value))
    if not isinstance(value, str) or match is None:
        raise ValueError(f"host.json {path} must be a time span like '00:05:00', got {value!r}")
    days, hours, minutes, seconds = match.groups()
    span = timedelta(
        days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds)
    )
    if span < timedelta(seconds=1):
        raise ValueError(f"host.json {path} must be at least one second, got {value!r}")
    return span


def _bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"host.json {path} must be true or false, got {value!r}")
