"""The SDK's entity result classes (`azure.durable_functions.models.entities`)."""

from durable.core.sdk_entity import EntityState, OperationResult

__all__ = ["EntityState", "OperationResult"]
