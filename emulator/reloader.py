"""Reload on change: `python -m emulator start` without `--no-reload`.

As the Functions host restarts its language worker when the app's files change, this
process runs the app in a child host process (`start --no-reload`) and starts a new one
when a `.py` file, `host.json` or `local.settings.json` changes (emulator.watch). It owns
what must outlive a version of the app: the HTTP listening socket, handed to each child, so
the port never closes and requests made during a reload wait in its backlog; and Azurite,
started once on a child's request.

A reload first loads the new version in a new child while the old one keeps serving. Only
when it has loaded (imported, indexed, checked its storage) is the old child stopped as a
Ctrl-C would stop it (running invocations finish first), and the new one told to start its
listeners. If the new version fails to load, its error is printed, the old child goes on
serving, and the next change tries again. Durable work in flight is in the task hub and
carries on in the new version.

A child that exits on its own (a crash, a fatal error) ends this process with the same
status, or the same signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from emulator import watch
from emulator.azurite import Azurite
from emulator.errors import AppLoadError, HostError
from emulator.logs import host_logger
from emulator.options import StartOptions, bind_listener
from emulator.settings import DEFAULT_PORT, load_local_settings

BACKLOG = 511
_log = host_logger("reload")


@dataclass
class Child:
    """One version of the app, running in a child host process."""

    process: asyncio.subprocess.Process
    writer: asyncio.StreamWriter
    loaded: asyncio.Event
    link: asyncio.Task[None]

    def go(self) -> None:
        self.writer.write(b'{"go": true}\n')

    def signal(self, sig: int) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    async def wait_loaded(self) -> bool:
        """True once loaded; False if the process exited first."""
        exited = asyncio.create_task(self.process.wait())
        loaded = asyncio.create_task(self.loaded.wait())
        await asyncio.wait({exited, loaded}, return_when=asyncio.FIRST_COMPLETED)
        for task in (exited, loaded):
            task.cancel()
        return self.loaded.is_set() and self.process.returncode is None


class Reloader:
    def __init__(self, options: StartOptions) -> None:
        self.options = options
        self._app_dir = (options.script_root or Path.cwd()).resolve()
        self._environment = dict(os.environ)  # each child reads local.settings.json anew
        self._azurite: Azurite | None = None
        self._sock: socket.socket | None = None
        self._stopping: int | None = None  # the stop signal, once one came
        self._changed = asyncio.Event()
        self._stop_watch = asyncio.Event()
        self._current: Child | None = None
        self._pending: Child | None = None

    async def run(self) -> int:
        if not self._app_dir.is_dir():
            raise AppLoadError(f"The script root {self.options.script_root} is not a folder.")
        port = self.options.port or load_local_settings(self._app_dir).port or DEFAULT_PORT
        self._sock = bind_listener(self.options.host, port)
        self._sock.listen(BACKLOG)
        self._install_signals()
        watcher = asyncio.create_task(self._watch())
        try:
            return await self._serve(port)
        finally:
            self._stop_watch.set()
            await asyncio.gather(watcher, return_exceptions=True)
            self._close_socket()
            if self._azurite is not None:
                self._azurite.stop()

    async def _serve(self, port: int) -> int:
        first = self._current = await self._spawn(port)
        if not await first.wait_loaded():
            code = await first.process.wait()
            return 0 if self._stopping is not None and code == -self._stopping else code
        first.go()
        while True:
            exited = asyncio.create_task(self._current.process.wait())
            changed = asyncio.create_task(self._changed.wait())
            await asyncio.wait({exited, changed}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
            if exited.done():
                code = exited.result()
                # Stopped before it could catch the signal (still starting): a clean stop.
                return 0 if self._stopping is not None and code == -self._stopping else code
            exited.cancel()
            self._changed.clear()
            if self._stopping is None:
                await self._reload(port)

    async def _reload(self, port: int) -> None:
        assert self._current is not None
        _log.info("Reloading the app: loading the new version while the current one serves.")
        new = self._pending = await self._spawn(port)
        loaded = await new.wait_loaded()
        self._pending = None
        if self._stopping is not None:
            new.signal(signal.SIGTERM)
            await new.process.wait()
            return
        if not loaded:
            _log.error("The changed app failed to load (the error is above): the previous "
                       "version goes on serving. Save a fix to reload.")
            return
        _log.info("The new version loaded; stopping the previous one (running invocations "
                  "finish first).")
        old, self._current = self._current, new
        old.signal(signal.SIGTERM)
        await old.process.wait()
        new.go()
        _log.info("Reload complete.")

    async def _spawn(self, port: int) -> Child:
        assert self._sock is not None
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "emulator", "start", "--no-reload",
                   "--script-root", str(self._app_dir), "--port", str(port),
                   "--host", self.options.host, "--listen-fd", str(self._sock.fileno()),
                   "--control-fd", str(theirs.fileno())]
        if self.options.verbose:
            command.append("--verbose")
        if self.options.trace is not None:
            command += ["--trace", self.options.trace]
        if self.options.functions:
            command += ["--functions", *self.options.functions]
        self._sock.set_inheritable(True)
        process = await asyncio.create_subprocess_exec(
            *command, env=self._environment, pass_fds=(self._sock.fileno(), theirs.fileno()),
            start_new_session=True,  # Ctrl-C reaches this process, which passes it on once
        )
        theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        loaded = asyncio.Event()
        link = asyncio.create_task(self._serve_link(reader, writer, loaded))
        return Child(process, writer, loaded, link)

    async def _serve_link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          loaded: asyncio.Event) -> None:
        while line := await reader.readline():
            event = json.loads(line).get("event")
            if event == "loaded":
                loaded.set()
            elif event == "azurite":
                writer.write((json.dumps(await self._ensure_azurite()) + "\n").encode())
                await writer.drain()

    async def _ensure_azurite(self) -> dict[str, str]:
        try:
            if self._azurite is None:
                self._azurite = await Azurite.ensure(self._app_dir)
        except HostError as exc:
            return {"azurite": "error", "message": str(exc)}
        return {"azurite": "ok"}

    async def _watch(self) -> None:
        async for batch in watch.changes(self._app_dir, self._stop_watch):
            for line in watch.describe(batch, self._app_dir):
                _log.info(line)
            self._changed.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: int) -> None:
        """Stop: no new connections at all, then the children stop as on their own signal
        (a second signal makes them exit at once, as it does without the reloader)."""
        self._stopping = sig
        self._stop_watch.set()
        self._close_socket()
        for child in (self._current, self._pending):
            if child is not None:
                child.signal(sig)
        self._changed.set()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def exit_like(code: int) -> int:
    """A child's exit status for this process: a signal's death is repeated on itself."""
    if code < 0:
        sys.stdout.flush()
        sys.stderr.flush()
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def run(options: StartOptions) -> int:
    return exit_like(asyncio.run(Reloader(options).run()))
