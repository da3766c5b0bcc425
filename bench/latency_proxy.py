"""A TCP proxy that adds a fixed delay to every storage round trip, standing for cloud
latency in front of Azurite (nothing in the runtime changes).

Bytes from the client are forwarded `delay_ms` after they arrived, in order and without
holding back what arrives meanwhile; bytes back are forwarded at once. So each request and
its response take `delay_ms` longer, however many requests a connection carries, and
concurrent requests overlap as they would on a network. It runs in its own process
(`python -m bench.latency_proxy --delay-ms 10 --route 54321:10001 ...`) so that its work
does not share the bench's or the host's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.azurite import free_ports, listening

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1 << 16


async def _delayed_pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(forward())
    try:
        while True:
            data = await reader.read(CHUNK)
            queue.put_nowait((time.monotonic() + delay, data))
            if not data:
                break
        await sender
    finally:
        sender.cancel()
        with contextlib.suppress(Exception):
            writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _serve(routes: list[tuple[int, int]], delay: float) -> None:
    async def handler(target: int, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_delayed_pump(client_r, server_w, delay),
                             _pump(server_r, client_w), return_exceptions=True)

    servers = [
        await asyncio.start_server(lambda r, w, t=target: handler(t, r, w), "127.0.0.1", port)
        for port, target in routes
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


class LatencyProxy:
    """The proxy process for some ports of a private Azurite; `port_for(target)` is where
    to connect instead."""

    def __init__(self, targets: list[int], delay_ms: float) -> None:
        self.delay_ms = delay_ms
        self._ports = dict(zip(targets, free_ports(len(targets)), strict=True))
        self._process: subprocess.Popen[bytes] | None = None

    def port_for(self, target: int) -> int:
        return self._ports[target]

    def start(self) -> LatencyProxy:
        command = [sys.executable, "-m", "bench.latency_proxy", "--delay-ms", str(self.delay_ms)]
        for target, port in self._ports.items():
            command += ["--route", f"{port}:{target}"]
        self._process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not all(listening(p) for p in self._ports.values()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the latency proxy did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--route", action="append", default=[], metavar="LISTEN:TARGET")
    args = parser.parse_args()
    routes = [tuple(int(p) for p in r.split(":")) for r in args.route]
    asyncio.run(_serve([(a, b) for a, b in routes], args.delay_ms / 1000))


if __name__ == "__main__":
    main()
