"""The task hub on Azure Storage: the narrow interface the runtime and client see of Azure.

All Azure SDK imports live in this package; callers get our types and our errors
(`durable.errors.TaskHubError` and its subclasses).
"""

from durable.storage.history_store import HistoryStore
from durable.storage.instance_store import InstanceStore
from durable.storage.interface import (
    HistoryStorage,
    InstanceRecord,
    InstanceStorage,
    InstanceUpdate,
    LoadedHistory,
    OutboundMessage,
    QueueStorage,
    ReceivedMessage,
    TaskHubStorage,
)
from durable.storage.large_payloads import LargePayloadStore
from durable.storage.queues import MAX_VISIBILITY_DELAY, TaskHubQueues
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub

__all__ = [
    "MAX_VISIBILITY_DELAY",
    "HistoryStorage",
    "HistoryStore",
    "InstanceRecord",
    "InstanceStorage",
    "InstanceStore",
    "InstanceUpdate",
    "LargePayloadStore",
    "LoadedHistory",
    "OutboundMessage",
    "QueueStorage",
    "ReceivedMessage",
    "TaskHub",
    "TaskHubStorage",
    "TaskHubQueues",
    "TaskHubSettings",
]
