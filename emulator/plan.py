"""From indexed functions to what the host must run: HTTP routes, queue and blob listeners,
timers, where every input and output binding reads and writes, retry policies, and the
storage accounts they need. Everything that can be wrong in the declarations is found here,
before anything starts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator import blobs, expressions
from emulator.errors import ConfigError, IndexingError, StorageError
from emulator.expressions import Template
from emulator.functions import (
    BLOB_TRIGGER,
    HTTP_TRIGGER,
    QUEUE_TRIGGER,
    TIMER_TRIGGER,
    BindingSpec,
    FunctionSpec,
)
from emulator.listeners.http import HttpRoute, build_routes
from emulator.ncrontab import Schedule, ScheduleError, parse_schedule
from emulator.retry import RetryPolicy, parse_policy
from emulator.settings import HostConfig, LocalSettings, expand_settings, resolve_setting
from emulator.storage import DEFAULT_CONNECTION, StorageAccount, resolve_connection
from emulator.targets import BlobTarget, QueueTarget, TableTarget, Target

_QUEUE_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
# The host applies @app.retry to these triggers only (of those this host serves).
RETRY_TRIGGERS = (TIMER_TRIGGER,)


@dataclass(frozen=True)
class TimerPlan:
    spec: FunctionSpec
    schedule: Schedule
    run_on_startup: bool


@dataclass(frozen=True)
class BlobTriggerPlan:
    spec: FunctionSpec
    account: StorageAccount
    connection: str
    container: str
    pattern: Template  # the blob name part of the path


@dataclass
class HostPlan:
    routes: list[HttpRoute] = field(default_factory=list)
    queue_triggers: list[tuple[FunctionSpec, QueueTarget]] = field(default_factory=list)
    blob_triggers: list[BlobTriggerPlan] = field(default_factory=list)
    timers: list[TimerPlan] = field(default_factory=list)
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)
    accounts: dict[str, StorageAccount] = field(default_factory=dict)
    unsupported: list[FunctionSpec] = field(default_factory=list)
    retries: dict[str, RetryPolicy] = field(default_factory=dict)
    retry_ignored: list[FunctionSpec] = field(default_factory=list)


class _Connections:
    def __init__(self, local: LocalSettings, plan: HostPlan) -> None:
        self._local = local
        self._plan = plan

    def get(self, setting: object, where: str) -> StorageAccount:
        name = str(setting) if setting else DEFAULT_CONNECTION
        account = self._plan.accounts.get(name)
        if account is None:
            try:
                account = resolve_connection(name, self._local)
            except StorageError as exc:
                raise StorageError(f"{where}: {exc.message}", exc.hint) from None
            self._plan.accounts[name] = account
        return account


def queue_name(raw: object, where: str, local: LocalSettings) -> str:
    name = expand_settings(str(raw or ""), local, where).lower()
    if not _QUEUE_NAME.match(name):
        raise IndexingError(
            f"{where}: '{name}' is not a valid queue name.",
            "Queue names are 3-63 characters: lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit.",
        )
    return name


def template(raw: object, where: str, local: LocalSettings) -> Template:
    text = expand_settings(str(raw or ""), local, where)
    try:
        return expressions.parse(text)
    except expressions.ExpressionError as exc:
        raise IndexingError(f"{where}: {exc}") from None


def build_plan(functions: tuple[FunctionSpec, ...], config: HostConfig,
               local: LocalSettings) -> HostPlan:
    plan = HostPlan()
    connections = _Connections(local, plan)
    if resolve_setting(DEFAULT_CONNECTION, local):
        connections.get(DEFAULT_CONNECTION, "AzureWebJobsStorage")
    http: list[FunctionSpec] = []
    for spec in functions:
        kind = spec.trigger_type
        if kind == HTTP_TRIGGER:
            http.append(spec)
        elif kind == QUEUE_TRIGGER:
            _add_queue_trigger(spec, plan, connections, local)
        elif kind == BLOB_TRIGGER:
            plan.blob_triggers.append(_blob_trigger(spec, connections, local))
        elif kind == TIMER_TRIGGER:
            plan.timers.append(_timer(spec, local))
        else:
            plan.unsupported.append(spec)
        for binding in (*spec.inputs, *spec.outputs, spec.return_binding):
            if binding is not None and binding.type != "http":
                target = _target(spec, binding, connections, local)
                plan.targets[(spec.name, binding.name)] = target
        _retry(spec, plan)
    plan.routes = build_routes(http, config.route_prefix)
    if plan.blob_triggers and DEFAULT_CONNECTION not in plan.accounts:
        names = ", ".join(f"'{b.spec.name}'" for b in plan.blob_triggers)
        raise StorageError(
            f"Blob triggers ({names}) keep their receipts in the host's storage account, "
            "but AzureWebJobsStorage is not set.",
            'Add "AzureWebJobsStorage": "UseDevelopmentStorage=true" (or a connection string) '
            "to Values in local.settings.json.",
        )
    return plan


def _retry(spec: FunctionSpec, plan: HostPlan) -> None:
    if spec.retry is None:
        return
    policy = parse_policy(spec.name, spec.retry)
    if spec.trigger_type in RETRY_TRIGGERS:
        plan.retries[spec.name] = policy
    else:
        plan.retry_ignored.append(spec)


def _where(spec: FunctionSpec, binding: BindingSpec) -> str:
    return f"Function '{spec.name}', {binding.type} {binding.direction}put '{binding.name}'"


def _target(spec: FunctionSpec, binding: BindingSpec, connections: _Connections,
            local: LocalSettings) -> Target:
    where = _where(spec, binding)
    config = binding.config
    account = connections.get(config.get("connection"), where)
    if binding.type == "queue":
        return QueueTarget(account, queue_name(config.get("queueName"), where, local))
    if binding.type == "blob":
        if binding.direction == "in":
            blobs.check_input_annotation(spec.name, binding.name, "blob input",
                                         spec.annotations.get(binding.name))
        container, name = blobs.split_path(str(config.get("path") or ""), where)
        return BlobTarget(account, str(config.get("connection") or DEFAULT_CONNECTION),
                          template(container, where, local), template(name, where, local),
                          _data_type(config))
    return _table_target(account, config, where, local)


def _table_target(account: StorageAccount, config: dict[str, Any], where: str,
                  local: LocalSettings) -> TableTarget:
    def optional(key: str) -> Template | None:
        raw = config.get(key)
        return template(raw, where, local) if raw not in (None, "") else None

    take = config.get("take")
    if take is not None and (isinstance(take, bool) or not isinstance(take, int) or take < 0):
        raise IndexingError(f"{where}: take must be a positive integer, got {take!r}.")
    if not config.get("tableName"):
        raise IndexingError(f"{where} has no table_name.")
    return TableTarget(account, template(config.get("tableName"), where, local),
                       optional("partitionKey"), optional("rowKey"), optional("filter"),
                       take or None)


def _data_type(config: dict[str, Any]) -> str | None:
    raw = config.get("dataType")
    return str(raw).lower() if raw not in (None, "", 0) else None


def _add_queue_trigger(spec: FunctionSpec, plan: HostPlan, connections: _Connections,
                       local: LocalSettings) -> None:
    where = f"Function '{spec.name}' (queueTrigger)"
    account = connections.get(spec.trigger.config.get("connection"), where)
    name = queue_name(spec.trigger.config.get("queueName"), where, local)
    plan.queue_triggers.append((spec, QueueTarget(account, name)))


def _blob_trigger(spec: FunctionSpec, connections: _Connections,
                  local: LocalSettings) -> BlobTriggerPlan:
    where = f"Function '{spec.name}' (blobTrigger)"
    config = spec.trigger.config
    source = str(config.get("source") or "").lower()
    if source == "eventgrid":
        raise IndexingError(f"{where} uses source=EventGrid, which needs an Event Grid "
                            "subscription this host cannot receive.",
                            "Leave out source (LogsAndContainerScan, the default) locally.")
    blobs.check_input_annotation(spec.name, spec.trigger.name, "blob trigger",
                                 spec.annotations.get(spec.trigger.name))
    account = connections.get(config.get("connection"), where)
    path = expand_settings(str(config.get("path") or ""), local, where)
    container, name = blobs.split_path(path, where)
    if "{" in container:
        raise IndexingError(f"{where}: the container in path '{path}' cannot be a binding "
                            "expression.", "Name the container literally: 'samples/{name}'.")
    pattern = template(name or "{name__}", where, local)
    return BlobTriggerPlan(spec, account, str(config.get("connection") or DEFAULT_CONNECTION),
                           container.lower(), pattern)


def _timer(spec: FunctionSpec, local: LocalSettings) -> TimerPlan:
    where = f"Function '{spec.name}' (timerTrigger)"
    raw = spec.trigger.config.get("schedule")
    if not raw:
        raise IndexingError(f"{where} has no schedule.")
    try:
        schedule = parse_schedule(expand_settings(str(raw), local, where))
    except (ScheduleError, ConfigError) as exc:
        raise IndexingError(f"{where}: {exc}") from None
    return TimerPlan(spec, schedule, bool(spec.trigger.config.get("runOnStartup")))
