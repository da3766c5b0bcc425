"""Which failures are storage's (retried for as long as they last, never counted against the
message) and which are the message's own (counted, and poisoned after MAX_REQUEUES)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from durable.errors import (
    HistoryConflictError,
    InstanceConflictError,
    LargePayloadMissingError,
    MessageFormatError,
    StorageUnavailableError,
)
from durable.storage.transport import is_transient


def http_error(status: int) -> HttpResponseError:
    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    return error


@pytest.mark.parametrize("exc", [
    StorageUnavailableError("down"), HistoryConflictError("etag"), InstanceConflictError("row"),
    ServiceRequestError("refused"), ServiceResponseError("reset"), TimeoutError(),
    ConnectionResetError(), http_error(500), http_error(503), http_error(408),
    http_error(429),
], ids=repr)
def test_storage_failures_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    http_error(400), http_error(413), ResourceNotFoundError("gone"), ValueError("bad key"),
    MessageFormatError("not a task message"), LargePayloadMissingError("blob"),
    KeyError("x"),
], ids=repr)
def test_the_messages_own_failures_are_not(exc: BaseException) -> None:
    assert not is_transient(exc)
