"""Writing the Instances row: the projection of an instance's history that status queries,
start de-duplication and tools read.

The row is written after the history commit, unconditionally (insert-or-merge), as Durable
Task does; history stays the source of truth. After a crash between the two, a redelivered
message makes the episode repair the row from history.
"""

from __future__ import annotations

from durable.storage.interface import InstanceStorage, InstanceUpdate


class InstanceRows:
    """The runtime's writes of Instances rows."""

    def __init__(self, instances: InstanceStorage) -> None:
        self._instances = instances

    async def write(self, instance_id: str, update: InstanceUpdate) -> None:
        """Merge what an episode changed into the row."""
        await self._instances.update_from_episode(instance_id, update)

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
        await self._instances.update_from_episode(instance_id, update)
