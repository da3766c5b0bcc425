"""What a person looking at a task hub wants to know beyond single instances: how deep each
queue is, what sits in the poison queues, how many instances have each status, and which
orchestrators the app registers (to start one). The dashboard reads these through the
management API; they are client methods (mixed into `DurableOrchestrationClient`) so that
the API stays a thin layer over the client."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any

from durable.core.registry import DurableKind, DurableRegistry
from durable.core.status import OrchestrationRuntimeStatus
from durable.storage import poison
from durable.storage.taskhub import TaskHub


class TaskHubViews(ABC):
    """Task hub methods of `DurableOrchestrationClient` (mixed into it); not in the SDK."""

    task_hub_name: str
    _functions: DurableRegistry | None

    @abstractmethod
    async def _taskhub(self) -> TaskHub:
        """The task hub this client works with."""

    async def get_queue_depths(self) -> dict[str, Any]:
        """Approximate message counts of the control queues, the work-item queue and the
        poison queues that exist, with the hub's name and partition count."""
        queues = (await self._taskhub()).queues
        depths, poisoned = await asyncio.gather(
            queues.approximate_counts(), poison.poison_depths(queues)
        )
        return {
            "taskHub": self.task_hub_name,
            "partitionCount": len(queues.control_queue_names),
            "controlQueues": [
                {"name": n, "depth": depths.get(n, 0)} for n in queues.control_queue_names
            ],
            "workItemQueue": {
                "name": queues.work_item_queue_name,
                "depth": depths.get(queues.work_item_queue_name, 0),
            },
            "poisonQueues": [{"name": n, "depth": d} for n, d in poisoned.items()],
        }

    async def get_instance_counts(self) -> dict[str, int]:
        """Orchestration instances per runtime status, every status present (zero or more),
        and their `Total`: one scan of the Instances table's status column."""
        counted = await (await self._taskhub()).instances.count_by_status()
        counts = {s.value: counted.get(s.name, 0) for s in OrchestrationRuntimeStatus}
        counts["Total"] = sum(counted.values())
        return counts

    async def get_poison_messages(self, queue_name: str) -> list[dict[str, Any]]:
        """The first messages of one poison queue of the hub, readable; ValueError for a
        queue that is not one of the hub's poison queues."""
        queues = (await self._taskhub()).queues
        return [m.to_json() for m in await poison.peek_poison(queues, queue_name)]

    async def delete_poison_message(self, queue_name: str, message_id: str) -> bool:
        """Delete one poison message; False when it is not in the queue."""
        queues = (await self._taskhub()).queues
        return await poison.delete_poison(queues, queue_name, message_id)

    def get_orchestrator_names(self) -> list[str]:
        """The orchestrators the app registers, sorted (empty for a client without the app,
        such as the `durable` command line's)."""
        functions = self._functions
        return functions.names(DurableKind.ORCHESTRATOR) if functions is not None else []
