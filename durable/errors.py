"""The error tree. Every error this library raises on purpose derives from `DurableError`.

Messages say what happened, the ids involved, what was expected and what was found, and
what to do about it.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any


class DurableError(Exception):
    """Base of every error raised on purpose by this library."""


def error_text(error: BaseException) -> str:
    """Return `str(error)`, or what can be said when its own `__str__` fails.

    A user's exception must never turn the recording of its failure into a second failure.
    """
    try:
        return str(error)
    except Exception as exc:
        return f"<str() of the {type(error).__name__} failed with {type(exc).__name__}>"


@dataclass(frozen=True, slots=True)
class FailureDetails:
    """Why a task or an orchestration failed, kept apart so nobody splits strings.

    It is Durable Task's `FailureDetails`: the history stores it as JSON with these member
    names, and a failed task raises a `TaskFailedError` that carries it.
    """

    error_type: str
    error_message: str
    stack_trace: str | None = None
    is_non_retriable: bool = False

    @classmethod
    def from_exception(
        cls, error: BaseException, *, hide_frames_of: str | None = None
    ) -> FailureDetails:
        """Record a failure from an exception, the one way every part of the library does.

        `hide_frames_of` names a module whose frame at the top of the traceback is the
        library's own caller, not the user's code, and is left out of the stack.
        """
        return cls(type(error).__name__, error_text(error), _stack_of(error, hide_frames_of))

    def to_dict(self) -> dict[str, Any]:
        """Durable Task's JSON member names."""
        return {
            "ErrorType": self.error_type,
            "ErrorMessage": self.error_message,
            "StackTrace": self.stack_trace,
            "IsNonRetriable": self.is_non_retriable,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> FailureDetails:
        """Read what `to_dict` (or Durable Task) wrote; missing members get defaults."""
        return FailureDetails(
            error_type=str(data.get("ErrorType") or ""),
            error_message=str(data.get("ErrorMessage") or ""),
            stack_trace=data.get("StackTrace"),
            is_non_retriable=bool(data.get("IsNonRetriable", False)),
        )


def _stack_of(error: BaseException, hide_frames_of: str | None) -> str:
    tb = error.__traceback__
    hidden = hide_frames_of is not None
    if tb is not None and hidden and tb.tb_frame.f_globals.get("__name__") == hide_frames_of:
        tb = tb.tb_next
    try:
        text = "".join(traceback.format_exception(type(error), error, tb))
    except Exception:  # a user's __str__ that fails inside the formatter
        text = f"{type(error).__name__}: {error_text(error)}\n"
    if isinstance(error, TaskFailedError) and error.stack_trace:
        text += f"\nCaused by {error.error_type} in {error.task_name}:\n{error.stack_trace}"
    return text


# --- orchestration code errors (raised into or recorded from user code) -------------------


class OrchestrationError(DurableError):
    """Something wrong with how an orchestrator function is written or behaves."""


class NonDeterminismError(OrchestrationError):
    """Replayed orchestrator code did something other than what history recorded."""


class InvalidOrchestratorError(OrchestrationError):
    """The orchestrator function cannot be driven by replay.

    It is `async def`, it yielded something that is not a task (a helper generator, a list,
    a coroutine), or it returned a task instead of yielding it. The message names the fix.
    """


class TaskFailedError(OrchestrationError):
    """An activity, sub-orchestration or entity call failed; raised at the `yield`.

    `str(e)` is the original error message, so `except Exception as e: str(e)` reads as it
    does in Durable Functions; the original type name and stack are kept as fields
    (`error_type`, `stack_trace`, `failure_details`) instead of being glued into the message.
    """

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


class HttpCallError(TaskFailedError):
    """A `call_http` request got no HTTP response; raised at the `yield`.

    An answer with an error status (404, 500, ...) is not an error: it is the call's
    `DurableHttpResponse`, as in Durable Functions. This is for requests that never got
    one; the subclasses say why, so an orchestrator can catch exactly the case it handles.
    """

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        stack_trace: str | None = None,
        failure_details: FailureDetails | None = None,
        task_name: str | None = None,
    ) -> None:
        super().__init__(
            message,
            error_type=error_type or type(self).__name__,
            stack_trace=stack_trace,
            failure_details=failure_details,
            task_name=task_name,
        )


class HttpConnectionError(HttpCallError):
    """The host could not be reached (connection refused, unknown host, TLS failure)."""


class HttpTimeoutError(HttpCallError):
    """No response came within the request's timeout (240 seconds unless it set one)."""


class TokenAcquisitionError(HttpCallError):
    """The bearer token of a `ManagedIdentityTokenSource` could not be had.

    Deployed, the app has no managed identity (or it may not access the resource); locally,
    no credential of azure-identity's chain is available (sign in with `az login`, or set
    AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET). The request was not sent.
    """


# The HTTP call errors by the type name a failed task records, so that the orchestrator
# gets back the class the runtime raised.
HTTP_CALL_ERRORS: dict[str, type[HttpCallError]] = {
    cls.__name__: cls
    for cls in (HttpCallError, HttpConnectionError, HttpTimeoutError, TokenAcquisitionError)
}


class InvalidHttpRequestError(OrchestrationError, ValueError):
    """A `call_http` request cannot be sent as given.

    Its method is not an HTTP method name, its uri not an absolute http(s) URI, or a
    header not a name/value pair; the message names the argument.
    """


class OrchestratorNotFoundError(OrchestrationError):
    """An instance names an orchestrator function the app does not define.

    It was renamed, removed, or lives in a module `function_app.py` does not import; the
    instance fails with this error.
    """


class ActivityNotFoundError(OrchestrationError):
    """A work item names an activity the app does not define.

    The activity task fails with this error, so the orchestrator sees it at its `yield` and
    may handle it.
    """


class EntityNotFoundError(OrchestrationError):
    """An operation was sent to an entity whose name no entity function of the app has.

    The operation fails with this error (a call gets it back), and the entity's state is
    left as it was.
    """


class LockingRulesViolationError(OrchestrationError):
    """An orchestration broke a rule of critical sections.

    The rules are Durable Functions' (for .NET): no nested section, no call to an entity it
    has not locked, no signal to one it has, no sub-orchestration inside one, and no two
    calls at once to the same locked entity.
    """


class TaskAlreadyCompletedError(OrchestrationError, ValueError):
    """A task was asked to change after it completed (e.g. cancelling a timer that fired)."""


class VersionMismatchError(OrchestrationError):
    """An instance's version is one this host does not run, and it fails such instances.

    Raised when host.json `versionFailureStrategy` is `Fail` and `versionMatchStrategy`
    refuses the version; the instance fails with it, and its message names both versions.
    """


# --- storage / task hub errors ------------------------------------------------------------


class HistoryFormatError(DurableError, ValueError):
    """A history given to replay is not in a shape it can read.

    An exported JSON file or a list of events; the message names the event and what is
    wrong with it.
    """


class TaskHubError(DurableError):
    """The task hub in storage could not be used as asked."""


class StorageUnavailableError(TaskHubError):
    """A storage endpoint could not be reached."""


class HistoryConflictError(TaskHubError):
    """Another writer committed this instance's history first (ETag mismatch)."""


class InstanceConflictError(TaskHubError):
    """The Instances row was created or changed by another writer since it was read (409/412)."""


class MessageFormatError(TaskHubError, ValueError):
    """A queue message body is not a task message in this library's format.

    It is not JSON, not base64 of JSON, or misses fields. Redelivering it will not help.
    """


class LargePayloadMissingError(TaskHubError):
    """A row or message refers to an offloaded payload blob that no longer exists.

    Typically the instance was purged while the message was in flight.
    """


# --- client errors ------------------------------------------------------------------------


class ClientError(DurableError):
    """A client request about an instance cannot be carried out."""


class InstanceNotFoundError(ClientError):
    """No instance has the id a request names (it never existed, or was purged)."""


class InstanceAlreadyExistsError(ClientError):
    """A start names the id of an instance that is still running (or pending)."""


class InvalidInstanceStateError(ClientError):
    """The instance's state does not allow the operation (e.g. resume a running one)."""


class StatusFormatError(ClientError, ValueError):
    """A `DurableOrchestrationStatus` was given a time or a runtime status it cannot read.

    Times are datetimes or ISO 8601 text; a status is an `OrchestrationRuntimeStatus` or one
    of its names. A ValueError too, as the SDK's parsers raise.
    """


class ManagementApiError(ClientError):
    """A management API request answered with something other than success.

    It carries the HTTP status and the `Message` of Durable Functions' JSON error body, plus
    any extra members (such as `ExceptionMessage`).
    """

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"Message": self.message, **self.extra}


# --- app / indexing errors ----------------------------------------------------------------


class FunctionRegistrationError(DurableError):
    """A function was registered in a way that cannot work (duplicate name, async def, ...)."""


class SettingsError(DurableError, ValueError):
    """A host.json setting has a value that cannot be used.

    The message names the setting, the value and what it may be.
    """


# --- payload errors -----------------------------------------------------------------------


class SerializationError(DurableError, ValueError):
    """A payload could not be turned into JSON (or back).

    The message names the value's type and where it was passed, e.g. "input of activity
    'book_hotel'".
    """


class LintError(DurableError):
    """The determinism lint could not read a module.

    A syntax error, or a file it cannot open: that module's orchestrators were not checked.
    """


# --- warnings -----------------------------------------------------------------------------


class DurableFunctionsCompatibilityWarning(UserWarning):
    """The SDK's warning category for app configurations that a coming release will not run.

    The SDK warns with it at import when an app still uses the v1 (`function.json`) model.
    This package never runs that model, so it does not emit it; the class is exported so that
    code filtering the SDK's warnings (`warnings.filterwarnings(..., category=...)`) keeps
    working.
    """
