"""In-process wake-ups for queue listeners.

A queue listener that finds its queue empty backs off exponentially (up to
`maxPollingInterval`). So that a message sent by code in this same process (a function, the
durable library, a background thread) is picked up at once rather than after the back-off,
the host wraps `azure.storage.queue.QueueClient.send_message` and its `aio` twin while it
runs. After a successful send the listeners of that queue are woken; a message sent with a
visibility delay wakes them when it becomes visible instead. Listeners are keyed by
(account name, queue name): a wake-up meant for another account of the same name only costs
one extra poll. Messages sent by other processes are found by polling as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from typing import Any

from azure.storage.queue import QueueClient
from azure.storage.queue.aio import QueueClient as AsyncQueueClient

from emulator.logs import host_logger

WakeKey = tuple[str, str]
_log = host_logger("wakeup")


def wake_key(account_name: str, queue_name: str) -> WakeKey:
    return (account_name.lower(), queue_name.lower())


class WakeRegistry:
    """Maps queues to the wake-up callbacks of their listeners; safe to call from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._callbacks: dict[WakeKey, list[Callable[[], None]]] = {}
        self._originals: list[tuple[type, Any]] = []

    def register(self, key: WakeKey, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.setdefault(key, []).append(callback)

    def notify(self, key: WakeKey, delay: float = 0.0) -> None:
        with self._lock:
            callbacks = list(self._callbacks.get(key, ()))
        if not callbacks or self._loop.is_closed():
            return
        when = f" in {delay:g} s, when it becomes visible" if delay > 0 else ""
        _log.debug("In-process send to queue '%s': waking its listener%s.", key[1], when)

        def fire() -> None:
            for callback in callbacks:
                callback()

        def schedule() -> None:
            if delay > 0:
                self._loop.call_later(delay, fire)
            else:
                fire()

        with contextlib.suppress(RuntimeError):  # the loop is shutting down
            self._loop.call_soon_threadsafe(schedule)

    def notify_client(self, client: Any, visibility_timeout: Any) -> None:
        delay = float(visibility_timeout or 0)
        self.notify(wake_key(client.account_name or "", client.queue_name), delay)

    def install(self) -> None:
        """Wrap send_message on the sync and async QueueClient classes."""
        registry = self
        sync_send = QueueClient.send_message
        async_send = AsyncQueueClient.send_message

        @functools.wraps(sync_send)
        def send(client: QueueClient, *args: Any, **kwargs: Any) -> Any:
            result = sync_send(client, *args, **kwargs)
            registry.notify_client(client, kwargs.get("visibility_timeout"))
            return result

        @functools.wraps(async_send)
        async def send_async(client: AsyncQueueClient, *args: Any, **kwargs: Any) -> Any:
            result = await async_send(client, *args, **kwargs)
            registry.notify_client(client, kwargs.get("visibility_timeout"))
            return result

        self._originals = [(QueueClient, sync_send), (AsyncQueueClient, async_send)]
        setattr(QueueClient, "send_message", send)  # noqa: B010 (mypy: method assignment)
        setattr(AsyncQueueClient, "send_message", send_async)  # noqa: B010

    def uninstall(self) -> None:
        for cls, original in self._originals:
            setattr(cls, "send_message", original)  # noqa: B010
        self._originals = []
