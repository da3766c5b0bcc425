"""The host's start-up check of its storage endpoint, against Azurite behind a TCP proxy that
holds the first requests back: a busy endpoint is waited for, one that never answers is
reported once the host's patience runs out (a refused one fails at once: see
tests/e2e/test_host_errors.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

import pytest

from emulator.errors import StorageError
from emulator.storage import check_reachable, parse_connection


class HoldingProxy:
    """Forwards TCP to `target`, but holds the first `held` connections without answering
    (a storage emulator too busy to answer in time)."""

    def __init__(self, target_port: int, held: int) -> None:
        self._target_port = target_port
        self._held = held
        self.accepted = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.accepted <= self._held:
            await reader.read()  # until the client gives up and closes
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def holding_proxy(connection_string: str, held: int) -> AsyncIterator[HoldingProxy]:
    queue_port = int(re.search(r"QueueEndpoint=http://127\.0\.0\.1:(\d+)", connection_string)
                     .group(1))  # type: ignore[union-attr]
    proxy = HoldingProxy(queue_port, held)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


def _through(connection_string: str, proxy: HoldingProxy) -> str:
    return re.sub(r"QueueEndpoint=http://127\.0\.0\.1:\d+",
                  f"QueueEndpoint=http://127.0.0.1:{proxy.port}", connection_string)


@pytest.mark.timeout(60)
async def test_a_busy_endpoint_is_asked_again_until_it_answers(
    connection_string: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with holding_proxy(connection_string, held=2) as proxy:
        account = parse_connection("AzureWebJobsStorage", _through(connection_string, proxy))
        with caplog.at_level(logging.WARNING):
            await check_reachable(account, timeout=1.0, patience=30.0)
    assert proxy.accepted >= 3  # two held back, then one answered through the proxy
    slow = [r for r in caplog.records if "is slow to answer" in r.getMessage()]
    assert len(slow) >= 2, [r.getMessage() for r in caplog.records]
    assert f"127.0.0.1:{proxy.port}" in slow[0].getMessage()


@pytest.mark.timeout(60)
async def test_an_endpoint_that_never_answers_is_reported_after_the_patience(
    connection_string: str,
) -> None:
    async with holding_proxy(connection_string, held=1_000) as proxy:
        account = parse_connection("AzureWebJobsStorage", _through(connection_string, proxy))
        with pytest.raises(StorageError) as raised:
            await check_reachable(account, timeout=0.3, patience=1.5)
    assert proxy.accepted >= 2  # asked again before giving up
    assert f"Cannot reach the queue endpoint http://127.0.0.1:{proxy.port}" in str(raised.value)
    assert "Azurite" in str(raised.value)
