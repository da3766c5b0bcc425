"""A minimal in-process queue pump for backend tests.

It does what the Functions queue trigger does for the dispatcher Functions (receive, call,
delete on success, leave the message for redelivery on failure) so that the runtime can be
tested against Azurite without a host process. End-to-end tests use the real host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from durable.runtime.worker import DurableWorker

Handler = Callable[[bytes | str, int], Awaitable[None]]


class QueuePump:
    def __init__(self, worker: DurableWorker, visibility: timedelta = timedelta(seconds=30)):
        self.worker = worker
        self.visibility = visibility
        self.errors: list[BaseException] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    async def __aenter__(self) -> QueuePump:
        queues = self.worker.hub.queues
        for name in queues.control_queue_names:
            poll = self._poll(name, self.worker.on_control_message)
            self._tasks.append(asyncio.create_task(poll))
        self._tasks.append(
            asyncio.create_task(self._poll(queues.work_item_queue_name, self.worker.on_work_item))
        )
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._stop.set()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _poll(self, queue_name: str, handler: Handler) -> None:
        client = self.worker.hub.queues.client(queue_name)
        running: set[asyncio.Task[None]] = set()
        idle = 0.02
        while not self._stop.is_set():
            got = 0
            pages = client.receive_messages(
                messages_per_page=16, visibility_timeout=int(self.visibility.total_seconds())
            ).by_page()
            async for page in pages:
                async for msg in page:
                    got += 1
                    task = asyncio.create_task(self._one(client, msg, handler))
                    running.add(task)
                    task.add_done_callback(running.discard)
                break  # one receive request; more pages would hide messages we never run
            if got:
                idle = 0.02
                continue
            await asyncio.sleep(idle)
            idle = min(idle * 2, 0.25)

    async def _one(self, client: Any, msg: Any, handler: Handler) -> None:
        try:
            await handler(msg.content, msg.dequeue_count)
        except Exception as exc:  # left for redelivery, as the queue trigger does
            self.errors.append(exc)
            return
        with contextlib.suppress(Exception):
            await client.delete_message(msg.id, msg.pop_receipt)
