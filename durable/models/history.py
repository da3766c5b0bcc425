"""The SDK's history event type names (`azure.durable_functions.models.history`)."""

from durable.core.sdk_json import HistoryEventType

__all__ = ["HistoryEventType"]
