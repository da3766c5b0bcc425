"""The task hub on Azure Storage: the narrow interface the runtime and client see of Azure.

All Azure SDK imports live in this package; callers get our types and our errors
(`durable.errors.TaskHubError` and its subclasses).
"""

from durable.storage.history_store import HistoryStore, LoadedHistory
from durable.storage.instance_store import InstanceRecord, InstanceStore, InstanceUpdate
from durable.storage.large_payloads import LargePayloadStore
from durable.storage.queues import (
    MAX_VISIBILITY_DELAY,
    OutboundMessage,
    ReceivedMessage,
    TaskHubQueues,
)
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub

__all__ = [
    "MAX_VISIBILITY_DELAY",
    "HistoryStore",
    "InstanceRecord",
    "InstanceStore",
    "InstanceUpdate",
    "LargePayloadStore",
    "LoadedHistory",
    "OutboundMessage",
    "ReceivedMessage",
    "TaskHub",
    "TaskHubQueues",
    "TaskHubSettings",
]
