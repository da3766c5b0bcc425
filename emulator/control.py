"""The link between the reloader (emulator.reloader) and the host process it runs.

The reloader starts each version of the app as a child host with two inherited file
descriptors: the HTTP listening socket, and a Unix socket carrying JSON lines. The child asks
for Azurite when it needs it (the reloader owns Azurite, so that a reload does not restart
it), says when the app is loaded, and starts its listeners only when told to, after the
previous version has stopped. If the reloader dies, so does the child: it is killed with it
(PR_SET_PDEATHSIG on Linux) and exits as soon as the link reads end-of-file.

Lines from the child: `{"event": "azurite"}`, `{"event": "loaded"}`.
Lines from the reloader: `{"azurite": "ok"}` or `{"azurite": "error", "message": ...}`, and
`{"go": true}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import sys
from typing import Any

from emulator.errors import AzuriteError

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when the reloader exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ParentLink:
    """The child's end of the control socket."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._writer: asyncio.StreamWriter | None = None
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._go = asyncio.Event()
        self._reader_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        parent = os.getppid()
        die_with_parent()
        if os.getppid() != parent:  # the reloader died before the request took effect
            os._exit(1)
        reader, self._writer = await asyncio.open_unix_connection(
            sock=socket.socket(fileno=self._fd))
        self._reader_task = asyncio.create_task(self._read(reader), name="reloader link")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            line = await reader.readline()
            if not line:
                # The reloader is gone: nothing may outlive it (it owns Azurite and the port).
                os._exit(1)
            message = json.loads(line)
            if message.get("go"):
                self._go.set()
            else:
                await self._replies.put(message)

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._writer is not None, "not connected"
        self._writer.write((json.dumps(message) + "\n").encode("utf-8"))
        await self._writer.drain()

    async def ensure_azurite(self) -> None:
        await self._send({"event": "azurite"})
        reply = await self._replies.get()
        if reply.get("azurite") != "ok":
            raise AzuriteError(str(reply.get("message") or "Azurite could not be started."))

    async def loaded(self, stop: asyncio.Event) -> None:
        """Report the app loaded, then wait until the previous version has stopped (or this
        one is asked to stop before it started)."""
        await self._send({"event": "loaded"})
        go = asyncio.create_task(self._go.wait())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({go, stopped}, return_when=asyncio.FIRST_COMPLETED)
        go.cancel()
        stopped.cancel()
