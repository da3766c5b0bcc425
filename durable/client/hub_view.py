"""What a person looking at a task hub wants to know beyond single instances: how deep each
queue is, what sits in the poison queues, how many instances have each status, and which
orchestrators the app registers (to start one). The dashboard reads these through the
management API; they are here so that the API stays a thin layer over the client."""

from __future__ import annotations

import asyncio
from typing import Any

from durable.client.orchestration_client import DurableOrchestrationClient
from durable.core.registry import DurableKind
from durable.core.status import OrchestrationRuntimeStatus
from durable.storage import poison


async def queue_depths(client: DurableOrchestrationClient) -> dict[str, Any]:
    """Approximate message counts of the control queues, the work-item queue and the poison
    queues that exist, with the hub's name and partition count."""
    hub = await client._taskhub()
    queues = hub.queues
    depths, poisoned = await asyncio.gather(
        queues.approximate_counts(), poison.poison_depths(queues)
    )
    return {
        "taskHub": client.task_hub_name,
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


async def instance_counts(client: DurableOrchestrationClient) -> dict[str, int]:
    """Orchestration instances per runtime status, every status present (zero or more)."""
    hub = await client._taskhub()
    counted = await hub.instances.count_by_status()
    counts = {s.value: counted.get(s.name, 0) for s in OrchestrationRuntimeStatus}
    counts["Total"] = sum(counted.values())
    return counts


async def poison_messages(client: DurableOrchestrationClient, queue_name: str) -> list[Any]:
    """The first messages of one poison queue of the hub, readable."""
    hub = await client._taskhub()
    return [m.to_json() for m in await poison.peek_poison(hub.queues, queue_name)]


async def delete_poison_message(
    client: DurableOrchestrationClient, queue_name: str, message_id: str
) -> bool:
    """Delete one poison message; False when it is not in the queue."""
    hub = await client._taskhub()
    return await poison.delete_poison(hub.queues, queue_name, message_id)


def orchestrator_names(client: DurableOrchestrationClient) -> list[str]:
    """The orchestrators the app registers, sorted (empty for a client without the app)."""
    functions = client._functions
    return functions.names(DurableKind.ORCHESTRATOR) if functions is not None else []
