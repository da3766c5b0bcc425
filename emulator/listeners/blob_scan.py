"""Finding new and changed blobs for blob triggers, as the Functions host's polling listener
finds them in a storage account without logs or Event Grid (which Azurite is).

Every `EMULATOR_BLOB_SCAN_SECONDS` (10 s, the host's polling interval) each watched
container is listed, one page of up to 10,000 blobs shared between the containers, going on
from where the last page ended; a full pass over a container is a sweep. A blob last
modified at or after the latest modification time seen in the previous sweep is a
candidate (blob times are whole seconds, hence "at"). For each candidate and each function
on that container whose path pattern matches, the receipt for (function, ETag) decides
(emulator.listeners.blob_receipts): none yet means create it, lease it, queue a message
for the function, mark it complete. Candidates that could not be queued are tried again at
the next poll. At the end of a sweep its latest time is stored (scan info), so a restarted
host does not look at older blobs again.

A blob written by an output binding of this host wakes the scanner at once, as the host's
blob-written watcher does; blobs written by other processes wait for the next poll.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import ContainerClient

from emulator.listeners.blob_receipts import Receipt, Receipts, function_id
from emulator.logs import host_logger
from emulator.plan import BlobTriggerPlan

SCAN_INTERVAL = float(os.environ.get("EMULATOR_BLOB_SCAN_SECONDS", "10"))
SCAN_BUDGET = 10_000  # blobs listed per poll, over all containers
EPOCH = datetime.min.replace(tzinfo=UTC)
Enqueue = Callable[[str], Awaitable[None]]
"""Sends one (JSON) message to the blob trigger queue."""
_log = host_logger("blob")


@dataclass
class ScanStats:
    listed: int = 0
    candidates: int = 0
    queued: int = 0
    seconds: float = 0.0
    sweep_done: bool = False


@dataclass
class ContainerScan:
    """One container's scan state and the blob-trigger functions registered on it."""

    account_name: str
    container: ContainerClient
    receipts: Receipts
    enqueue: Enqueue
    functions: list[BlobTriggerPlan] = field(default_factory=list)
    last_sweep: datetime = EPOCH  # latest modification seen by the previous sweep
    current_sweep: datetime = EPOCH
    token: str | None = None
    retry: dict[str, BlobProperties] = field(default_factory=dict)
    missing_logged: bool = False
    enqueued: int = 0  # messages sent, in all

    @property
    def name(self) -> str:
        return str(self.container.container_name)

    async def load(self) -> None:
        stored = await self.receipts.load_latest_scan(self.account_name, self.name)
        self.last_sweep = stored or EPOCH
        _log.debug("Container '%s': scanning blobs modified since %s.", self.name,
                   self.last_sweep.isoformat())

    async def poll(self, budget: int) -> ScanStats:
        started = time.perf_counter()
        stats = ScanStats()
        previous = self.last_sweep
        retry, self.retry = list(self.retry.values()), {}
        before = self.enqueued
        for blob in [*retry, *await self._page(budget, stats)]:
            stats.candidates += 1
            if not await self._notify(blob):
                self.retry[blob.name] = blob
        stats.queued = self.enqueued - before
        if self.last_sweep > previous:
            latest = min([self.last_sweep, *(_modified(b) for b in self.retry.values())])
            await self.receipts.save_latest_scan(self.account_name, self.name,
                                                 latest - timedelta(milliseconds=1))
        stats.seconds = time.perf_counter() - started
        return stats

    async def _page(self, budget: int, stats: ScanStats) -> list[BlobProperties]:
        if self.token is None:
            self.current_sweep = EPOCH
        try:
            pager = self.container.list_blobs(results_per_page=budget).by_page(self.token)
            page = [blob async for blob in await pager.__anext__()]
            self.token = getattr(pager, "continuation_token", None)
        except StopAsyncIteration:
            page, self.token = [], None
        except ResourceNotFoundError:
            if not self.missing_logged:
                _log.warning("Container '%s' does not exist: its blob triggers wait for it.",
                             self.name)
                self.missing_logged = True
            self.token = None
            return []
        self.missing_logged = False
        stats.listed = len(page)
        found = []
        for blob in page:
            modified = _modified(blob)
            self.current_sweep = max(self.current_sweep, modified)
            if modified >= self.last_sweep and blob.name not in self.retry:
                found.append(blob)
        if self.token is None:
            stats.sweep_done = True
            self.last_sweep = max(self.last_sweep, self.current_sweep)
        return found

    async def _notify(self, blob: BlobProperties) -> bool:
        """Queue the blob for every matching function; False to try again next poll."""
        done = True
        for plan in self.functions:
            if plan.pattern.capture(blob.name) is None:
                continue
            try:
                done = await self._queue_once(plan, blob) and done
            except (AzureError, OSError) as exc:
                _log.debug("Blob '%s/%s' for '%s': %s; trying again at the next poll.",
                           self.name, blob.name, plan.spec.name, str(exc).splitlines()[0])
                done = False
        return done

    async def _queue_once(self, plan: BlobTriggerPlan, blob: BlobProperties) -> bool:
        receipt = self.receipts.receipt(plan.spec.name, quoted(blob.etag), self.name, blob.name)
        state = await self.receipts.read(receipt)
        if state is Receipt.COMPLETE:
            return True
        if state is Receipt.MISSING and not await self.receipts.create(receipt):
            return False  # another host just created it: look again later
        lease = await self.receipts.lease(receipt)
        if lease is None:
            return False
        try:
            if await self.receipts.read(receipt) is Receipt.COMPLETE:
                return True
            await self.enqueue(trigger_message(plan.spec.name, self.name, blob))
            self.enqueued += 1
            _log.debug("Blob '%s/%s' queued for 'Functions.%s'.", self.name, blob.name,
                       plan.spec.name)
            await self.receipts.complete(receipt, lease)
            return True
        finally:
            await self.receipts.release(lease)


def _modified(blob: BlobProperties) -> datetime:
    value = blob.last_modified or EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def trigger_message(function: str, container: str, blob: BlobProperties) -> str:
    """The blob trigger queue message, in the host's JSON shape."""
    return json.dumps({
        "Type": "BlobTrigger", "FunctionId": function_id(function), "BlobType": "BlockBlob",
        "ContainerName": container, "BlobName": blob.name, "ETag": quoted(blob.etag),
    })


def quoted(etag: object) -> str:
    """An ETag as the HTTP header carries it, quotes included (as the host writes it)."""
    text = str(etag or "")
    return text if text.startswith('"') else f'"{text}"'


def encoded(message: str) -> str:
    return base64.b64encode(message.encode("utf-8")).decode("ascii")


class BlobScanner:
    """Polls every registered container, with one budget per poll, until stopped."""

    def __init__(self, interval: float = SCAN_INTERVAL, budget: int = SCAN_BUDGET) -> None:
        self._interval = interval
        self._budget = budget
        self.scans: dict[tuple[str, str], ContainerScan] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def add(self, key: tuple[str, str], scan: ContainerScan) -> ContainerScan:
        return self.scans.setdefault(key, scan)

    def wake(self, key: tuple[str, str]) -> None:
        if key in self.scans:
            self._wake.set()

    async def start(self) -> None:
        for scan in self.scans.values():
            await scan.load()
        self._task = asyncio.create_task(self._loop(), name="blob scan")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def drain(self) -> None:
        """Nothing of its own runs after stop: the functions run from the queue."""

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self.poll_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)

    async def poll_all(self) -> list[ScanStats]:
        share = max(1, self._budget // max(1, len(self.scans)))
        results: list[ScanStats] = []
        for scan in self.scans.values():
            try:
                stats = await scan.poll(share)
            except (AzureError, OSError) as exc:
                if not self._failing:
                    _log.warning("Scanning container '%s' failed: %s. Scans go on.", scan.name,
                                 str(exc).splitlines()[0])
                self._failing = True
                continue
            self._failing = False
            results.append(stats)
            _log.debug("Poll for blobs in container '%s': %d listed, %d new or changed, %d "
                       "queued, in %dms.", scan.name, stats.listed, stats.candidates,
                       stats.queued, stats.seconds * 1000)
        return results
