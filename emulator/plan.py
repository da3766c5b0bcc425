"""From indexed functions to what the host must run: HTTP routes, queue listeners, timers,
queue output targets and the storage accounts they need. Everything that can be wrong in
the declarations is found here, before anything starts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from emulator.errors import ConfigError, IndexingError, StorageError
from emulator.functions import (
    HTTP_TRIGGER,
    QUEUE_TRIGGER,
    TIMER_TRIGGER,
    FunctionSpec,
)
from emulator.listeners.http import HttpRoute, build_routes
from emulator.ncrontab import Schedule, ScheduleError, parse_schedule
from emulator.settings import HostConfig, LocalSettings, expand_settings, resolve_setting
from emulator.storage import DEFAULT_CONNECTION, StorageAccount, resolve_connection

_QUEUE_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class QueueTarget:
    account: StorageAccount
    queue_name: str


@dataclass(frozen=True)
class TimerPlan:
    spec: FunctionSpec
    schedule: Schedule
    run_on_startup: bool


@dataclass
class HostPlan:
    routes: list[HttpRoute] = field(default_factory=list)
    queue_triggers: list[tuple[FunctionSpec, QueueTarget]] = field(default_factory=list)
    timers: list[TimerPlan] = field(default_factory=list)
    outputs: dict[tuple[str, str], QueueTarget] = field(default_factory=dict)
    accounts: dict[str, StorageAccount] = field(default_factory=dict)
    unsupported: list[FunctionSpec] = field(default_factory=list)


class _Connections:
    def __init__(self, local: LocalSettings, plan: HostPlan) -> None:
        self._local = local
        self._plan = plan

    def get(self, setting: object) -> StorageAccount:
        name = str(setting) if setting else DEFAULT_CONNECTION
        account = self._plan.accounts.get(name)
        if account is None:
            account = resolve_connection(name, self._local)
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


def build_plan(functions: tuple[FunctionSpec, ...], config: HostConfig,
               local: LocalSettings) -> HostPlan:
    plan = HostPlan()
    connections = _Connections(local, plan)
    if resolve_setting(DEFAULT_CONNECTION, local):
        connections.get(DEFAULT_CONNECTION)
    http: list[FunctionSpec] = []
    for spec in functions:
        kind = spec.trigger_type
        if kind == HTTP_TRIGGER:
            http.append(spec)
        elif kind == QUEUE_TRIGGER:
            _add_queue_trigger(spec, plan, connections, local)
        elif kind == TIMER_TRIGGER:
            plan.timers.append(_timer(spec, local))
        else:
            plan.unsupported.append(spec)
        for binding in (*spec.outputs, spec.return_binding):
            if binding is not None and binding.type == "queue":
                where = f"Function '{spec.name}', queue output '{binding.name}'"
                target = QueueTarget(
                    _account(connections, binding.config.get("connection"), where),
                    queue_name(binding.config.get("queueName"), where, local),
                )
                plan.outputs[(spec.name, binding.name)] = target
    plan.routes = build_routes(http, config.route_prefix)
    return plan


def _account(connections: _Connections, setting: object, where: str) -> StorageAccount:
    try:
        return connections.get(setting)
    except StorageError as exc:
        raise StorageError(f"{where}: {exc.message}", exc.hint) from None


def _add_queue_trigger(spec: FunctionSpec, plan: HostPlan, connections: _Connections,
                       local: LocalSettings) -> None:
    where = f"Function '{spec.name}' (queueTrigger)"
    account = _account(connections, spec.trigger.config.get("connection"), where)
    name = queue_name(spec.trigger.config.get("queueName"), where, local)
    plan.queue_triggers.append((spec, QueueTarget(account, name)))


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
