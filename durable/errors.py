"""The error tree. Every error this library raises on purpose derives from `DurableError`.

Messages say what happened, the ids involved, what was expected and what was found, and
what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from durable.core.history import FailureDetails


class DurableError(Exception):
    """Base of every error raised on purpose by this library."""


# --- orchestration code errors (raised into or recorded from user code) -------------------


class OrchestrationError(DurableError):
    """Something wrong with how an orchestrator function is written or behaves."""


class NonDeterminismError(OrchestrationError):
    """Replayed orchestrator code did something other than what history recorded."""


class InvalidOrchestratorError(OrchestrationError):
    """The orchestrator function cannot be driven by replay: it is `async def`, it yielded
    something that is not a task (a helper generator, a list, a coroutine), or it returned a
    task instead of yielding it. The message names the fix."""


class TaskFailedError(OrchestrationError):
    """An activity, sub-orchestration or entity call failed; raised at the orchestrator's
    `yield`. `str(e)` is the original error message, so `except Exception as e: str(e)` reads
    as it does in Durable Functions; the original type name and stack are kept as fields
    instead of being glued into the message."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str,
        stack_trace: str | None = None,
        failure_details: FailureDetails | None = None,
        task_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.stack_trace = stack_trace
        self.failure_details = failure_details
        self.task_name = task_name


class TaskAlreadyCompletedError(OrchestrationError, ValueError):
    """A task was asked to change after it completed (e.g. cancelling a timer that fired)."""


# --- storage / task hub errors ------------------------------------------------------------


class TaskHubError(DurableError):
    """The task hub in storage could not be used as asked."""


class StorageUnavailableError(TaskHubError):
    """A storage endpoint could not be reached."""


class HistoryConflictError(TaskHubError):
    """Another writer committed this instance's history first (ETag mismatch)."""


class InstanceConflictError(TaskHubError):
    """The Instances row was created or changed by another writer since it was read (409/412)."""


class MessageFormatError(TaskHubError, ValueError):
    """A queue message body is not a task message in this library's format (not JSON, not
    base64 of JSON, or missing fields). Redelivering it will not help."""


class LargePayloadMissingError(TaskHubError):
    """A row or message refers to an offloaded payload blob that no longer exists (typically
    because the instance was purged while the message was in flight)."""


# --- client errors ------------------------------------------------------------------------


class ClientError(DurableError):
    """A client request about an instance cannot be carried out."""


class InstanceNotFoundError(ClientError):
    pass


class InstanceAlreadyExistsError(ClientError):
    pass


class InvalidInstanceStateError(ClientError):
    """The instance's state does not allow the operation (e.g. resume a running one)."""


# --- app / indexing errors ----------------------------------------------------------------


class FunctionRegistrationError(DurableError):
    """A function was registered in a way that cannot work (duplicate name, async def, ...)."""


# --- payload errors -----------------------------------------------------------------------


class SerializationError(DurableError, ValueError):
    """A payload could not be turned into JSON (or back). The message names the value's type
    and where it was passed, e.g. "input of activity 'book_hotel'"."""
