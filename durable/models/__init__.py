"""The SDK's `azure.durable_functions.models` names, for tests written against the SDK.

`OrchestratorState`, the action classes (`durable.models.actions`), `ReplaySchema` and the
history event type names (`durable.models.history`) have the SDK's constructors and JSON, so
`Orchestrator(fn).handle(DurableOrchestrationContext.from_json(...))` can be checked the way
the SDK's own unit tests check it.

The client classes (`DurableOrchestrationClient`, `PurgeHistoryResult`, `EntityStateResponse`)
and `TaskBase` (the base of every task, `df.Task` here) are the same classes `durable`
uses, re-exported under the SDK's names.
"""

from durable.client import (
    DurableOrchestrationClient,
    DurableOrchestrationStatus,
    OrchestrationRuntimeStatus,
    PurgeHistoryResult,
)
from durable.client.entity_operations import EntityStateResponse
from durable.core.context import DurableOrchestrationContext
from durable.core.entities import EntityId
from durable.core.entity_context import DurableEntityContext
from durable.core.http import DurableHttpRequest, ManagedIdentityTokenSource, TokenSource
from durable.core.retry import RetryOptions
from durable.core.sdk_actions import OrchestratorState, ReplaySchema
from durable.core.sdk_json import FunctionContext
from durable.core.task import TaskBase

__all__ = [
    "DurableEntityContext",
    "DurableHttpRequest",
    "DurableOrchestrationClient",
    "DurableOrchestrationContext",
    "DurableOrchestrationStatus",
    "EntityId",
    "EntityStateResponse",
    "FunctionContext",
    "ManagedIdentityTokenSource",
    "OrchestrationRuntimeStatus",
    "OrchestratorState",
    "PurgeHistoryResult",
    "ReplaySchema",
    "RetryOptions",
    "TaskBase",
    "TokenSource",
]
