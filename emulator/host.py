"""The host: read the app folder's settings, index the app, start storage and the listeners,
print the function listing and a readiness line, then run until Ctrl-C / SIGTERM and shut
down gracefully (no new work, in-flight invocations get SHUTDOWN_TIMEOUT seconds, Azurite
stopped if the host started it)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator import bindings, listing
from emulator.azurite import Azurite
from emulator.errors import AppLoadError, ConfigError, IndexingError
from emulator.functions import FunctionSpec
from emulator.indexer import index_app
from emulator.invoker import Invoker
from emulator.listeners.http import HttpListener, Router, port_in_use
from emulator.listeners.queue import QueueListener
from emulator.listeners.timer import TimerListener
from emulator.logs import host_logger
from emulator.ncrontab import ScheduleError
from emulator.plan import HostPlan, build_plan
from emulator.settings import (
    DEFAULT_PORT,
    HostConfig,
    LocalSettings,
    apply_environment,
    load_host_config,
    load_local_settings,
)
from emulator.storage import QueueClients, check_reachable
from emulator.wakeup import WakeRegistry, wake_key

SHUTDOWN_TIMEOUT = 30.0
BIND_HOST = "127.0.0.1"
_HOST_HINT = "Pass --host an address of this machine (127.0.0.1, or 0.0.0.0 for all)."
READY_LINE = "Host started ({url})"
_log = host_logger()


@dataclass(frozen=True)
class StartOptions:
    script_root: Path | None = None
    port: int | None = None
    verbose: bool = False
    host: str = BIND_HOST  # the address HTTP listens on: loopback unless asked otherwise


class Host:
    def __init__(self, options: StartOptions) -> None:
        self.options = options
        self.stuck = False  # invocations still running after the shutdown bound
        self._stop = asyncio.Event()
        self._azurite = Azurite()
        self._clients = QueueClients()
        self._queues: list[QueueListener] = []
        self._timers: list[TimerListener] = []
        self._http: HttpListener | None = None
        self._invoker: Invoker | None = None
        self._registry: WakeRegistry | None = None
        self._plan = HostPlan()
        self._encoding = "base64"

    async def run(self) -> int:
        self._install_signals()
        try:
            await self._start()
            await self._stop.wait()
            await self._shutdown()
        finally:
            await self._clients.close()
            if self._registry is not None:
                self._registry.uninstall()
            self._azurite.stop()
        return 0

    def request_stop(self) -> None:
        if self._stop.is_set():
            _log.warning("Second stop signal: exiting now.")
            self._azurite.stop(timeout=2)
            sys.stdout.flush()
            os._exit(130)
        _log.info("Stopping host...")
        self._stop.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.request_stop)

    async def _start(self) -> None:
        app_dir, config, local, port = self._read_settings()
        _log.info("Azure Functions host emulator: loading %s", app_dir)
        indexed = index_app(app_dir)
        self._plan = build_plan(indexed.functions, config, local)
        self._encoding = config.queues.message_encoding
        _check_port_free(self.options.host, port)
        if any(a.development for a in self._plan.accounts.values()):
            self._azurite = await Azurite.ensure(app_dir)
        for account in {a.connection_string: a for a in self._plan.accounts.values()}.values():
            await check_reachable(account)
        self._registry = WakeRegistry(asyncio.get_running_loop())
        self._registry.install()
        self._invoker = Invoker(app_dir, self._write_queue_output)
        await self._start_listeners(config, local, port)
        listing.print_functions(indexed, self._plan, port)
        url = f"http://localhost:{port}"
        print(READY_LINE.format(url=url), flush=True)

    def _read_settings(self) -> tuple[Path, HostConfig, LocalSettings, int]:
        root = self.options.script_root or Path.cwd()
        app_dir = root.resolve()
        if not app_dir.is_dir():
            raise AppLoadError(f"The script root {root} is not a folder.")
        config = load_host_config(app_dir)
        local = load_local_settings(app_dir)
        port = self.options.port or local.port or DEFAULT_PORT
        apply_environment(local, app_dir, port)
        return app_dir, config, local, port

    async def _start_listeners(self, config: HostConfig, local: LocalSettings, port: int) -> None:
        assert self._invoker is not None and self._registry is not None
        self._http = HttpListener(Router(self._plan.routes), self._invoker, local.cors_origins,
                                  local.cors_credentials, self.options.verbose)
        await self._http.start(self.options.host, port)
        for spec, target in self._plan.queue_triggers:
            listener = QueueListener(spec, target.account, target.queue_name, self._clients,
                                     config.queues, self._invoker)
            self._registry.register(wake_key(target.account.account_name, target.queue_name),
                                    listener.wake)
            await listener.start()
            self._queues.append(listener)
        for timer in self._plan.timers:
            try:
                listener_t = TimerListener(timer.spec, timer.schedule, timer.run_on_startup,
                                           self._invoker)
            except ScheduleError as exc:
                raise IndexingError(f"Function '{timer.spec.name}': {exc}") from None
            self._timers.append(listener_t)
        for listener_t in self._timers:
            await listener_t.start()

    async def _write_queue_output(self, spec: FunctionSpec, binding: str,
                                  payloads: list[str | bytes]) -> None:
        target = self._plan.outputs[(spec.name, binding)]
        client = await self._clients.ensure_queue(target.account, target.queue_name)
        for payload in payloads:
            await client.send_message(bindings.encode_body(payload, self._encoding))

    async def _shutdown(self) -> None:
        assert self._invoker is not None
        listeners: list[Any] = [*self._queues, *self._timers]
        try:
            await asyncio.wait_for(self._drain(listeners), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            self.stuck = True
            _log.warning("%d invocation(s) did not finish within %.0f s; exiting anyway.",
                         self._invoker.active_count, SHUTDOWN_TIMEOUT)
        self._invoker.close(wait=not self.stuck)
        _log.info("Host stopped.")

    async def _drain(self, listeners: list[Any]) -> None:
        assert self._invoker is not None
        if self._http is not None:
            await self._http.stop_accepting()
        await asyncio.gather(*(listener.stop() for listener in listeners))
        _log.info("No longer accepting new work; waiting up to %.0f s for %d running "
                  "invocation(s).", SHUTDOWN_TIMEOUT, self._invoker.active_count)
        if self._http is not None:
            await self._http.stop()
        await asyncio.gather(*(listener.drain() for listener in listeners))
        await self._invoker.drain(SHUTDOWN_TIMEOUT)


def _check_port_free(host: str, port: int) -> None:
    """Fail before starting Azurite if the HTTP port is taken or the address is not one of
    this machine's (the real bind re-checks)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"Cannot listen on '{host}': {exc}.", _HOST_HINT) from None
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise port_in_use(port) from None
            raise ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}.",
                              _HOST_HINT) from None


def run(options: StartOptions) -> tuple[int, bool]:
    """Run the host to completion; returns (exit code, whether invocations were left running)."""
    host = Host(options)
    code = asyncio.run(host.run())
    return code, host.stuck

