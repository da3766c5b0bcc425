"""Queue triggers with the Azure Functions queue listener's semantics.

- Messages are fetched `batchSize` at a time and processed concurrently; the next batch is
  fetched once no more than `newBatchThreshold` are still running.
- A received message stays invisible for 10 minutes, renewed every 200 s while the function
  runs, so no other listener takes it.
- On success the message is deleted. On failure it becomes visible again after
  `visibilityTimeout`; once its dequeue count reaches `maxDequeueCount` it is moved to
  `{queue}-poison` instead (a message already past the limit when received is moved
  without running the function). A message that is not valid under `messageEncoding`
  goes straight to the poison queue.
- An empty poll doubles the wait before the next one, from 100 ms up to
  `maxPollingInterval`; a poll that finds work, or a wake-up (see `emulator.wakeup`),
  polls again at once. A poll that fails (storage unreachable) backs off the same way; the
  first failure and the recovery are logged, the polls in between only with --verbose.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.queue import QueueMessage as StorageMessage
from azure.storage.queue.aio import QueueClient

from emulator import bindings, trigger_data
from emulator.functions import FunctionSpec
from emulator.invoker import InvocationFailed, Invoker
from emulator.logs import host_logger
from emulator.settings import QueueOptions
from emulator.storage import QueueClients, StorageAccount, first_line

MessageHandler = Callable[[StorageMessage, bytes], Awaitable[bool]]
"""Handles one received message (its body decoded); True when it may be deleted."""
PoisonTarget = Callable[[StorageMessage], tuple[StorageAccount, str]]
"""Where a message that reached maxDequeueCount goes: (account, queue name)."""

# How long a received message stays invisible while its invocation runs (renewed as it goes), as
# the Functions host does with 10 minutes. EMULATOR_QUEUE_LEASE_SECONDS shortens it so that
# tests which kill a host see its messages come back quickly.
RECEIVE_VISIBILITY = int(os.environ.get("EMULATOR_QUEUE_LEASE_SECONDS", "600"))
# A third, not half: a renewal that is slow to be answered (a busy storage emulator) still
# lands before the lease ends.
RENEW_INTERVAL = RECEIVE_VISIBILITY / 3
MIN_POLL_INTERVAL = 0.1
_log = host_logger("queue")


def function_handler(spec: FunctionSpec, invoker: Invoker, queue_name: str) -> MessageHandler:
    """Runs a queue-triggered function with the message; True when it succeeded."""

    async def handle(message: StorageMessage, body: bytes) -> bool:
        inserted = message.inserted_on.isoformat() if message.inserted_on else "?"
        details = (f"Trigger Details: MessageId: {message.id}, "
                   f"DequeueCount: {message.dequeue_count}, InsertedOn: {inserted}")
        try:
            await invoker.invoke(
                spec, bindings.queue_message(message, body),
                f"New queue message detected on '{queue_name}'.", details,
                trigger_data.queue_data(message, body) if spec.uses_binding_data else None,
            )
            return True
        except InvocationFailed:
            return False

    return handle


class QueueListener:
    def __init__(
        self,
        account: StorageAccount,
        queue_name: str,
        clients: QueueClients,
        options: QueueOptions,
        handler: MessageHandler,
        poison_target: PoisonTarget | None = None,
    ) -> None:
        self.account = account
        self.queue_name = queue_name
        self._clients = clients
        self._options = options
        self._handler = handler
        self._poison_target = poison_target
        self._wake = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._client: QueueClient | None = None
        self._failing_since: float | None = None  # when polling started to fail

    @property
    def poison_queue_name(self) -> str:
        return f"{self.queue_name}-poison"

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._client = await self._clients.ensure_queue(self.account, self.queue_name)
        self._poller = asyncio.create_task(self._poll_loop(), name=f"poll {self.queue_name}")

    async def stop(self) -> None:
        """Stop fetching; messages already fetched keep running (see `drain`)."""
        self._stopping = True
        self._wake.set()
        self._slot_freed.set()
        if self._poller is not None:
            await self._poller

    async def drain(self) -> None:
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _poll_loop(self) -> None:
        delay = MIN_POLL_INTERVAL
        while not self._stopping:
            await self._wait_for_capacity()
            if self._stopping:
                break
            self._wake.clear()
            messages = await self._receive()
            for message in messages:
                self._dispatch(message)
            if messages:
                delay = MIN_POLL_INTERVAL
                continue
            if await self._idle(delay):
                delay = MIN_POLL_INTERVAL
            else:
                delay = min(delay * 2, self._options.max_polling_interval)

    async def _wait_for_capacity(self) -> None:
        while len(self._in_flight) > self._options.new_batch_threshold and not self._stopping:
            self._slot_freed.clear()
            await self._slot_freed.wait()

    async def _idle(self, delay: float) -> bool:
        _log.debug("Queue '%s' is empty; next poll in %dms.", self.queue_name, delay * 1000)
        try:
            await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _receive(self) -> list[StorageMessage]:
        assert self._client is not None
        size = self._options.batch_size
        try:
            pager = self._client.receive_messages(
                messages_per_page=size, max_messages=size, visibility_timeout=RECEIVE_VISIBILITY
            )
            # One GET per poll: reading the pager to its end would ask again whenever a page
            # came back short, an extra empty request for almost every poll that found work.
            messages = []
            async for page in pager.by_page():
                messages = [m async for m in page]
                break
        except (AzureError, OSError) as exc:
            self._poll_failed(exc)
            return []
        self._poll_succeeded()
        if messages:
            _log.debug("Fetched %d message(s) from '%s'.", len(messages), self.queue_name)
        return messages

    def _poll_failed(self, exc: BaseException) -> None:
        """Log an outage once (polls go on with the empty-queue backoff), then quietly."""
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            _log.warning("Polling queue '%s' failed: %s. Polling goes on with backoff until "
                         "the queue answers.", self.queue_name, first_line(exc))
        else:
            _log.debug("Polling queue '%s' failed again: %s", self.queue_name, first_line(exc))

    def _poll_succeeded(self) -> None:
        if self._failing_since is not None:
            _log.warning("Queue '%s' answers again after %.1f s.", self.queue_name,
                         time.monotonic() - self._failing_since)
            self._failing_since = None

    def _dispatch(self, message: StorageMessage) -> None:
        task = asyncio.create_task(self._process(message), name=f"message {message.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slot_freed.set()
        if not task.cancelled() and task.exception() is not None:
            _log.error("Processing a message from '%s' failed: %s", self.queue_name,
                       task.exception())

    async def _process(self, message: StorageMessage) -> None:
        limit = self._options.max_dequeue_count
        dequeued = message.dequeue_count or 1
        if dequeued > limit:
            await self._poison(message)
            return
        try:
            body = bindings.decode_body(message.content, self._options.message_encoding)
        except bindings.MessageDecodingError as exc:
            _log.error("Message %s on '%s': %s.", message.id, self.queue_name, exc)
            await self._poison(message, undecodable=True)
            return
        succeeded = await self._invoke(message, body)
        if succeeded:
            await self._settle(self._client_or_fail().delete_message, message.id,
                               message.pop_receipt)
        elif dequeued >= limit:
            await self._poison(message)
        else:
            await self._release(message)

    async def _invoke(self, message: StorageMessage, body: bytes) -> bool:
        done = asyncio.Event()
        renewal = asyncio.create_task(self._keep_invisible(message, done))
        try:
            return await self._handler(message, body)
        finally:
            done.set()
            await asyncio.gather(renewal, return_exceptions=True)

    async def _keep_invisible(self, message: StorageMessage, done: asyncio.Event) -> None:
        """Renew the lease until `done`, which stops it between renewals, never during one:
        a renewal that reached the queue changed the pop receipt, and cancelled before its
        answer came it would leave the delete a stale one (the message would come back
        when the lease ran out, and count one more dequeue)."""
        while not await _set_within(done, RENEW_INTERVAL):
            try:
                updated = await self._client_or_fail().update_message(
                    message.id, pop_receipt=message.pop_receipt,
                    visibility_timeout=RECEIVE_VISIBILITY,
                )
                message.pop_receipt = updated.pop_receipt
            except (AzureError, OSError) as exc:
                _log.warning("Renewing message %s failed: %s", message.id, first_line(exc))

    async def _release(self, message: StorageMessage) -> None:
        delay = self._options.visibility_timeout
        await self._settle(
            self._client_or_fail().update_message, message.id,
            pop_receipt=message.pop_receipt, visibility_timeout=math.ceil(delay),
        )
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._wake.set)
        else:
            self._wake.set()

    async def _poison(self, message: StorageMessage, undecodable: bool = False) -> None:
        account, name = (self._poison_target(message) if self._poison_target
                         else (self.account, self.poison_queue_name))
        if undecodable:
            _log.warning("Moving message to queue '%s' (MessageId: %s).", name, message.id)
        else:
            _log.warning(
                "Message has reached MaxDequeueCount of %d. Moving message to queue '%s' "
                "(MessageId: %s).", self._options.max_dequeue_count, name, message.id,
            )
        try:
            poison = await self._clients.ensure_queue(account, name)
            await poison.send_message(message.content)
        except (AzureError, OSError) as exc:
            _log.error("Moving message %s to '%s' failed: %s", message.id, name,
                       first_line(exc))
            return
        await self._settle(self._client_or_fail().delete_message, message.id,
                           message.pop_receipt)

    async def _settle(self, operation: Any, *args: Any, **kwargs: Any) -> None:
        try:
            await operation(*args, **kwargs)
        except (AzureError, OSError) as exc:
            _log.warning("Queue '%s': %s failed: %s", self.queue_name,
                         getattr(operation, "__name__", "operation"), first_line(exc))

    def _client_or_fail(self) -> QueueClient:
        assert self._client is not None, "listener not started"
        return self._client


async def _set_within(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` is set within `seconds`."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True
