"""Writing the Instances row: the projection of an instance's history that status queries,
start de-duplication and tools read.

The row is written after the history commit, as Durable Task does; history stays the source
of truth. After a crash between the two, a redelivered message makes the episode repair the
row from history.

Unlike Durable Task, where a control queue is leased to one host, any host here takes any
message of an instance, so a row write still in flight on one host can land after another
host finished the instance. A row that shows an instance finished is therefore written
unconditionally (it is the last word on its execution), and every other orchestration row
write is a merge conditional on the row's ETag: this process's own last write of it, or a
read started alongside the history commit. When the ETag no longer matches, the row is read
again, and a write that would take a finished execution back to running is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from durable.errors import InstanceConflictError
from durable.storage.interface import InstanceRecord, InstanceStorage, InstanceUpdate

log = logging.getLogger("durable.rows")

# ETags of this process's own last writes, one per instance, most recent kept.
REMEMBERED_ETAGS = 10_000
# A row that keeps changing under a write is a storm of writers; past this, the conflict
# goes back to the queue trigger, which retries the message (it is transient).
MAX_ROW_TRIES = 8

RowRead = asyncio.Future[InstanceRecord | None]


class InstanceRows:
    """The runtime's writes of Instances rows (`guarded`: orchestrations' rows, which must
    not go back from finished; entities' rows have no finished state and are merged)."""

    def __init__(self, instances: InstanceStorage, *, guarded: bool = True) -> None:
        self._instances = instances
        self._guarded = guarded
        self._etags: OrderedDict[str, str] = OrderedDict()

    def prepare(self, instance_id: str, update: InstanceUpdate) -> RowRead | None:
        """Start reading the row that `update` will be written over, when the write will be
        conditional and this process does not know the row's ETag; started before the
        history commit, it costs the episode no time."""
        if not self._guarded or _finishes(update) or instance_id in self._etags:
            return None
        read = asyncio.ensure_future(self._instances.get(instance_id, include_input=False))
        read.add_done_callback(_retrieved)  # an episode that failed never awaits it
        return read

    async def write(self, instance_id: str, update: InstanceUpdate,
                    read: RowRead | None = None) -> None:
        """Merge what an episode changed into the row, never over a finished execution."""
        if not self._guarded or _finishes(update):
            self._forget(instance_id)
            await self._instances.update_from_episode(instance_id, update)
            return
        etag = self._etags.get(instance_id)
        record = await read if read is not None and etag is None else None
        await self._guarded_write(instance_id, update, etag, record)

    async def repair(self, instance_id: str, update: InstanceUpdate) -> None:
        """Make the row agree with committed history, when its status or execution says
        otherwise (an entity's row confirms its last batch by the execution id)."""
        record = await self._instances.get(instance_id, include_input=False)
        if (
            record is not None
            and record.runtime_status is update.runtime_status
            and record.execution_id == update.execution_id
        ):
            return
        if not self._guarded or _finishes(update):
            await self._instances.update_from_episode(instance_id, update)
            return
        await self._guarded_write(instance_id, update, None, record)

    async def _guarded_write(self, instance_id: str, update: InstanceUpdate,
                             etag: str | None, record: InstanceRecord | None) -> None:
        for _ in range(MAX_ROW_TRIES):
            if etag is None:
                if record is None:
                    record = await self._instances.get(instance_id, include_input=False)
                if record is not None and _went_back(record, update):
                    log.info("Not writing the %s row of '%s': another host already wrote "
                             "it %s", _status_name(update), instance_id,
                             record.runtime_status.value)
                    self._forget(instance_id)
                    return
                etag = record.etag if record is not None else None
            try:
                written = await self._instances.update_from_episode(
                    instance_id, update, etag=etag)
            except InstanceConflictError:
                etag, record = None, None
                continue
            self._remember(instance_id, written)
            return
        raise InstanceConflictError(
            f"the Instances row of {instance_id!r} changed under {MAX_ROW_TRIES} writes in a "
            "row; the message is tried again")

    def _remember(self, instance_id: str, etag: str) -> None:
        self._etags[instance_id] = etag
        self._etags.move_to_end(instance_id)
        while len(self._etags) > REMEMBERED_ETAGS:
            self._etags.popitem(last=False)

    def _forget(self, instance_id: str) -> None:
        self._etags.pop(instance_id, None)


def _finishes(update: InstanceUpdate) -> bool:
    return update.runtime_status is not None and update.runtime_status.is_terminal


def _went_back(record: InstanceRecord, update: InstanceUpdate) -> bool:
    """A row showing this execution finished, and a write that would show it running."""
    same_execution = update.execution_id is None or record.execution_id == update.execution_id
    return record.runtime_status.is_terminal and same_execution


def _status_name(update: InstanceUpdate) -> str:
    return update.runtime_status.value if update.runtime_status is not None else "changed"


def _retrieved(read: RowRead) -> None:
    if not read.cancelled():
        read.exception()
