"""The pure core: history events, tasks, the orchestration context and the replay engine.

Nothing in this package does I/O, reads the clock, starts threads or imports Azure SDKs.
Replay is one call: past history + new events in, new history + actions + state out.
"""

from durable.core.actions import (
    Action,
    CreateSubOrchestration,
    CreateTimer,
    ScheduleTask,
    SendEvent,
)
from durable.core.context import DurableOrchestrationContext
from durable.core.entities import EntityId
from durable.core.history import (
    EventType,
    FailureDetails,
    HistoryEvent,
    ParentInstance,
)
from durable.core.replay import EpisodeResult, OrchestrationExecutor, OrchestrationSession
from durable.core.retry import RetryOptions
from durable.core.serialization import dumps, loads
from durable.core.status import OrchestrationRuntimeStatus, OrchestrationStatus
from durable.core.task import (
    AtomicTask,
    CompoundTask,
    RetryableTask,
    Task,
    TaskBase,
    TimerTask,
    WhenAllTask,
    WhenAnyTask,
)

__all__ = [
    "Action",
    "AtomicTask",
    "CompoundTask",
    "CreateSubOrchestration",
    "CreateTimer",
    "DurableOrchestrationContext",
    "EntityId",
    "EpisodeResult",
    "EventType",
    "FailureDetails",
    "HistoryEvent",
    "OrchestrationExecutor",
    "OrchestrationSession",
    "OrchestrationRuntimeStatus",
    "OrchestrationStatus",
    "ParentInstance",
    "RetryOptions",
    "RetryableTask",
    "ScheduleTask",
    "SendEvent",
    "Task",
    "TaskBase",
    "TimerTask",
    "WhenAllTask",
    "WhenAnyTask",
    "dumps",
    "loads",
]
