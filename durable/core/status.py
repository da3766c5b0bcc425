"""The one status vocabulary of instances, shared by history, storage, the client and HTTP.

`OrchestrationRuntimeStatus` is the SDK's enum (string values, as the status endpoint and
the Instances table spell them). Durable Task calls the same statuses `OrchestrationStatus`
and numbers them; the numbers travel in queue messages, so each member knows its `code`.
Which statuses count as finished or as still running is written here once.
"""

from __future__ import annotations

from enum import Enum


class OrchestrationRuntimeStatus(Enum):
    """The runtime status of an orchestration (or entity) instance, as the SDK names it."""

    Running = "Running"
    Completed = "Completed"
    ContinuedAsNew = "ContinuedAsNew"
    Failed = "Failed"
    Canceled = "Canceled"
    Terminated = "Terminated"
    Pending = "Pending"
    Suspended = "Suspended"

    @property
    def code(self) -> int:
        """Durable Task's number for the status (`OrchestrationStatus` in DurableTask.Core)."""
        return _CODES[self]

    @staticmethod
    def from_code(code: int) -> OrchestrationRuntimeStatus:
        """The status Durable Task numbers `code`; ValueError for a number it does not use."""
        for status, number in _CODES.items():
            if number == code:
                return status
        raise ValueError(f"{code} is not a Durable Task orchestration status number")

    @property
    def is_terminal(self) -> bool:
        """Finished for good: nothing more happens to this execution."""
        return self in TERMINAL_STATUSES

    @property
    def is_running(self) -> bool:
        """Durable Functions' "running-like": a start over it is refused, events reach it."""
        return self in RUNNING_STATUSES


# Durable Task's name for the same statuses, used where history and storage speak its terms.
OrchestrationStatus = OrchestrationRuntimeStatus

_CODES: dict[OrchestrationRuntimeStatus, int] = {
    OrchestrationRuntimeStatus.Running: 0,
    OrchestrationRuntimeStatus.Completed: 1,
    OrchestrationRuntimeStatus.ContinuedAsNew: 2,
    OrchestrationRuntimeStatus.Failed: 3,
    OrchestrationRuntimeStatus.Canceled: 4,
    OrchestrationRuntimeStatus.Terminated: 5,
    OrchestrationRuntimeStatus.Pending: 6,
    OrchestrationRuntimeStatus.Suspended: 7,
}

TERMINAL_STATUSES = frozenset(
    {
        OrchestrationRuntimeStatus.Completed,
        OrchestrationRuntimeStatus.Failed,
        OrchestrationRuntimeStatus.Terminated,
        OrchestrationRuntimeStatus.Canceled,
    }
)
# Durable Functions' IsOrchestrationRunning: a new start over these is refused.
RUNNING_STATUSES = frozenset(
    {
        OrchestrationRuntimeStatus.Pending,
        OrchestrationRuntimeStatus.Running,
        OrchestrationRuntimeStatus.Suspended,
        OrchestrationRuntimeStatus.ContinuedAsNew,
    }
)
# An execution that is over, for the replay engine: terminal, or continued as a new one.
DONE_STATUSES = TERMINAL_STATUSES | {OrchestrationRuntimeStatus.ContinuedAsNew}
