"""Durable workflows for Python on Azure Storage.

`import durable as df` gives the names azure-functions-durable exports, so code and docs
written for Durable Functions work with that one import changed.
"""

from durable.app import Blueprint, DFApp
from durable.client import (
    DurableOrchestrationClient,
    DurableOrchestrationStatus,
    OrchestrationRuntimeStatus,
)
from durable.core.context import DurableOrchestrationContext
from durable.core.entities import EntityId
from durable.core.entity_context import DurableEntityContext
from durable.core.http import (
    DurableHttpRequest,
    DurableHttpResponse,
    ManagedIdentityTokenSource,
    TokenSource,
)
from durable.core.retry import RetryOptions
from durable.core.sdk_entity import Entity
from durable.core.sdk_orchestrator import Orchestrator
from durable.core.task import Task, TimerTask
from durable.errors import (
    DurableError,
    DurableFunctionsCompatibilityWarning,
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    NonDeterminismError,
)

__all__ = [
    "Blueprint",
    "DFApp",
    "DurableEntityContext",
    "DurableError",
    "DurableFunctionsCompatibilityWarning",
    "DurableHttpRequest",
    "DurableHttpResponse",
    "DurableOrchestrationClient",
    "DurableOrchestrationContext",
    "DurableOrchestrationStatus",
    "Entity",
    "EntityId",
    "InstanceAlreadyExistsError",
    "InstanceNotFoundError",
    "InvalidInstanceStateError",
    "ManagedIdentityTokenSource",
    "NonDeterminismError",
    "OrchestrationRuntimeStatus",
    "Orchestrator",
    "RetryOptions",
    "Task",
    "TimerTask",
    "TokenSource",
]
