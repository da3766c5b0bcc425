"""The host: read the app folder's settings, index the app, start storage and the listeners,
print the function listing and a readiness line, then run until Ctrl-C / SIGTERM and shut
down gracefully (no new work, in-flight invocations get SHUTDOWN_TIMEOUT seconds, Azurite
stopped if the host started it).

Run by the reloader (emulator.reloader), the host gets its listening socket and a link to
the reloader instead: it asks the reloader for Azurite, reports when the app is loaded, and
starts listening only when the reloader says the previous version has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import signal
import socket
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator import listing
from emulator.azurite import Azurite
from emulator.binding_io import BindingIO
from emulator.control import ParentLink
from emulator.durable_lint import warn_at_startup
from emulator.errors import AppLoadError, IndexingError
from emulator.indexer import IndexedApp, index_app
from emulator.invoker import Invoker
from emulator.listeners.blobs import BlobTriggers
from emulator.listeners.http import HttpListener, Router
from emulator.listeners.queue import QueueListener, function_handler
from emulator.listeners.timer import TimerListener
from emulator.logs import host_logger
from emulator.ncrontab import ScheduleError
from emulator.options import StartOptions, check_port_free
from emulator.plan import HostPlan, build_plan
from emulator.settings import (
    DEFAULT_PORT,
    HostConfig,
    LocalSettings,
    apply_environment,
    load_host_config,
    load_local_settings,
)
from emulator.storage import QueueClients, ServiceClients, check_reachable
from emulator.wakeup import WakeRegistry, wake_key

SHUTDOWN_TIMEOUT = 30.0
READY_LINE = "Host started ({url})"
_log = host_logger()


class Host:
    def __init__(self, options: StartOptions) -> None:
        self.options = options
        self.stuck = False  # invocations still running after the shutdown bound
        self._stop = asyncio.Event()
        self._azurite = Azurite()
        self._clients = QueueClients()
        self._services = ServiceClients()
        self._listeners: list[Any] = []
        self._http: HttpListener | None = None
        self._invoker: Invoker | None = None
        self._registry: WakeRegistry | None = None
        self._plan = HostPlan()
        self._link = ParentLink(options.control_fd) if options.control_fd is not None else None

    async def run(self) -> int:
        self._install_signals()
        try:
            if self._link is not None:
                await self._link.connect()
            await self._start()
            await self._stop.wait()
            await self._shutdown()
        finally:
            await self._clients.close()
            await self._services.close()
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
        indexed = self._only_named(index_app(app_dir))
        self._plan = build_plan(indexed.functions, config, local)
        warn_at_startup(indexed)
        if self.options.listen_fd is None:
            check_port_free(self.options.host, port)
        await self._storage(app_dir)
        if self._link is not None:
            await self._link.loaded(self._stop)
            if self._stop.is_set():
                return
        self._registry = WakeRegistry(asyncio.get_running_loop())
        self._registry.install()
        await self._start_listeners(app_dir, config, local, port)
        listing.print_functions(indexed, self._plan, port)
        print(READY_LINE.format(url=f"http://localhost:{port}"), flush=True)

    async def _storage(self, app_dir: Path) -> None:
        if any(a.development for a in self._plan.accounts.values()):
            if self._link is not None:
                await self._link.ensure_azurite()
            else:
                self._azurite = await Azurite.ensure(app_dir)
        for account in {a.connection_string: a for a in self._plan.accounts.values()}.values():
            await check_reachable(account)

    def _only_named(self, indexed: IndexedApp) -> IndexedApp:
        """--functions: keep the functions whose names match (case-insensitively)."""
        patterns = [p.lower() for p in self.options.functions]
        if not patterns:
            return indexed

        def wanted(name: str) -> bool:
            return any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns)

        names = [s.name for s in indexed.functions] + [n for _, n in indexed.durable]
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(n.lower(), pattern) for n in names):
                _log.warning("--functions: no function is named '%s' (the app has: %s).",
                             pattern, ", ".join(sorted(names)) or "none")
        return replace(indexed, functions=tuple(s for s in indexed.functions if wanted(s.name)),
                       durable=tuple(d for d in indexed.durable if wanted(d[1])))

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

    async def _start_listeners(self, app_dir: Path, config: HostConfig, local: LocalSettings,
                               port: int) -> None:
        assert self._registry is not None
        blob_triggers = BlobTriggers(app_dir, self._plan, config, self._clients,
                                     self._services)
        io = BindingIO(self._plan.targets, self._clients, self._services,
                       config.queues.message_encoding, blob_triggers.blob_written)
        self._invoker = invoker = Invoker(app_dir, io, self._plan.retries)
        self._http = HttpListener(Router(self._plan.routes), invoker, local.cors_origins,
                                  local.cors_credentials, self.options.verbose)
        sock = None
        if self.options.listen_fd is not None:
            sock = socket.socket(fileno=self.options.listen_fd)
        await self._http.start(self.options.host, port, sock)
        for spec, target in self._plan.queue_triggers:
            await self._listen(QueueListener(
                target.account, target.queue_name, self._clients, config.queues,
                function_handler(spec, invoker, target.queue_name)))
        for listener in await blob_triggers.start(io, invoker):
            if isinstance(listener, QueueListener):
                await self._listen(listener)
            else:
                self._listeners.append(listener)
        await self._start_timers()

    async def _listen(self, listener: QueueListener) -> None:
        assert self._registry is not None
        self._registry.register(wake_key(listener.account.account_name, listener.queue_name),
                                listener.wake)
        await listener.start()
        self._listeners.append(listener)

    async def _start_timers(self) -> None:
        assert self._invoker is not None
        timers: list[TimerListener] = []
        for timer in self._plan.timers:
            try:
                timers.append(TimerListener(timer.spec, timer.schedule, timer.run_on_startup,
                                            self._invoker))
            except ScheduleError as exc:
                raise IndexingError(f"Function '{timer.spec.name}': {exc}") from None
        for listener in timers:
            await listener.start()
        self._listeners.extend(timers)

    async def _shutdown(self) -> None:
        if self._invoker is None:  # stopped before the listeners started
            _log.info("Host stopped.")
            return
        self._invoker.begin_shutdown()
        try:
            await asyncio.wait_for(self._drain(self._listeners), SHUTDOWN_TIMEOUT)
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


def run(options: StartOptions) -> tuple[int, bool]:
    """Run the host to completion; returns (exit code, whether invocations were left running)."""
    host = Host(options)
    code = asyncio.run(host.run())
    return code, host.stuck
