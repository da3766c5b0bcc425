"""The SDK's task module path (`azure.durable_functions.models.Task`), for imports written
against it: the task classes of `durable.core.task` under the SDK's names."""

from durable.core.task import (
    AtomicTask,
    CompoundTask,
    RetryableTask,
    TaskBase,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

RetryAbleTask = RetryableTask  # the SDK's spelling

__all__ = [
    "AtomicTask",
    "CompoundTask",
    "RetryAbleTask",
    "TaskBase",
    "TimerTask",
    "WhenAllTask",
    "WhenAnyTask",
]
