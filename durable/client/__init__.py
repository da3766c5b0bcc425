"""The client layer: starting and managing instances, as the SDK's
`DurableOrchestrationClient` does, plus what it hands out (status records, history as
people read it, check-status links and responses)."""

from durable.client.orchestration_client import DurableOrchestrationClient
from durable.client.status import DurableOrchestrationStatus, PurgeHistoryResult
from durable.core.status import OrchestrationRuntimeStatus

__all__ = [
    "DurableOrchestrationClient",
    "DurableOrchestrationStatus",
    "OrchestrationRuntimeStatus",
    "PurgeHistoryResult",
]
