"""Conversions between the wire and `azure.functions` types, following the Python worker's
converters (`azure.functions.http`, `azure.functions.queue`).

Return values of HTTP functions: a `func.HttpResponse` is sent as is (a `text/*` mimetype
gets `; charset=...`, as the worker adds); a `str` becomes `200 text/plain; charset=utf-8`.
Anything else (None, dict, list, bytes, ...) fails the invocation with the worker's own
message, "unable to encode outgoing TypedData", and the caller gets a 500, exactly as on
Azure; return `func.HttpResponse(json.dumps(...), mimetype="application/json")` for JSON.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions import _abc as func_abc
from azure.functions.queue import QueueMessage as RichQueueMessage
from azure.storage.queue import QueueMessage as StorageMessage


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _unencodable(binding: str, value: Any) -> TypeError:
    return TypeError(
        f'unable to encode outgoing TypedData: unsupported type "{binding}" for '
        f'Python type "{type(value).__name__}"'
    )


def http_result(value: Any) -> HttpResult:
    """The HTTP response for a function's `$return` value (see the module docstring)."""
    if isinstance(value, str):
        return HttpResult(200, [("Content-Type", "text/plain; charset=utf-8")], value.encode())
    if isinstance(value, func_abc.HttpResponse):
        headers = [(str(k), str(v)) for k, v in value.headers.items()]
        if not any(k.lower() == "content-type" for k, _ in headers):
            mimetype = value.mimetype
            if mimetype.startswith("text/"):
                mimetype = f"{mimetype}; charset={value.charset}"
            headers.append(("Content-Type", mimetype))
        return HttpResult(int(value.status_code), headers, value.get_body() or b"")
    raise _unencodable("http", value)


def http_request(
    method: str,
    url: str,
    headers: collections.abc.Iterable[tuple[str, str]],
    query: collections.abc.Iterable[tuple[str, str]],
    route_params: dict[str, str],
    body: bytes,
) -> func.HttpRequest:
    """A func.HttpRequest; repeated headers and query keys are joined with ',' as the host does."""
    return func.HttpRequest(
        method=method,
        url=url,
        headers=_joined(headers, ", "),
        params=_joined(query, ","),
        route_params=route_params,
        body=body,
    )


def _joined(pairs: collections.abc.Iterable[tuple[str, str]], separator: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in pairs:
        existing = next((k for k in result if k.lower() == key.lower()), None)
        if existing is None:
            result[key] = value
        else:
            result[existing] = f"{result[existing]}{separator}{value}"
    return result


class MessageDecodingError(ValueError):
    """A queue message is not valid under the configured messageEncoding."""


def decode_body(content: str, encoding: str) -> bytes:
    if encoding == "none":
        return content.encode("utf-8")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise MessageDecodingError(
            "the message is not valid Base64, but host.json extensions.queues.messageEncoding "
            'is "base64" (the default); send it Base64-encoded or set messageEncoding "none"'
        ) from None


def encode_body(payload: str | bytes, encoding: str) -> str:
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    if encoding == "none":
        return data.decode("utf-8")
    return base64.b64encode(data).decode("ascii")


def queue_message(message: StorageMessage, body: bytes) -> func.QueueMessage:
    return RichQueueMessage(  # type: ignore[no-untyped-call]
        id=message.id,
        body=body,
        dequeue_count=message.dequeue_count,
        expiration_time=message.expires_on,
        insertion_time=message.inserted_on,
        time_next_visible=message.next_visible_on,
        pop_receipt=message.pop_receipt,
    )


def queue_payloads(value: Any) -> list[str | bytes]:
    """Messages for a queue output (`func.Out` value or `$return`), as the worker encodes them:
    str, bytes, QueueMessage, or an iterable of str / QueueMessage."""
    if isinstance(value, (str, bytes)):
        return [value]
    if isinstance(value, bytearray):
        return [bytes(value)]
    if isinstance(value, func_abc.QueueMessage):
        return [value.get_body()]
    if isinstance(value, collections.abc.Iterable) and not isinstance(value, dict):
        result: list[str | bytes] = []
        for item in value:
            if isinstance(item, str):
                result.append(item)
            elif isinstance(item, func_abc.QueueMessage):
                result.append(item.get_body())
            else:
                raise TypeError(f"invalid data type in output queue message list: {type(item)}")
        return result
    raise _unencodable("queue", value)


class Out(func.Out[Any]):
    """The value holder passed for an output binding parameter."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value
