"""Durable HTTP calls (`context.call_http`): the request and response models, the token
sources, and how content is serialized. The task that polls is in http_task.py.

A call is a durable step. Each request is the built-in activity `BuiltIn::HttpActivity`
(recorded as TaskScheduled/TaskCompleted, input `[request]`, result the response), which
the runtime carries out with a real HTTP client; replay reads the response from history
and sends nothing. When the answer is `202 Accepted` with a `Location` header (and the
request keeps `asynchronousPatternEnabled`), the task waits on a durable timer (the
`Retry-After` seconds, else the default polling interval) and then asks for the Location
with a GET, until another status comes back: Durable Functions' loop, step by step.

Nothing here does I/O: the request JSON is the extension's (`method`, `uri`, `headers`,
`content`, `tokenSource`, `asynchronousPatternEnabled`, `timeout`), the response JSON is
`{"statusCode", "headers", "content"}` as Durable Functions writes it.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from durable.errors import (
    InvalidHttpRequestError,
    SerializationError,
)

# host.json extensions.durableTask.httpSettings.defaultAsyncRequestSleepTimeMilliseconds.
DEFAULT_POLL_INTERVAL = timedelta(milliseconds=30000)
# The timeout of the extension's HTTP client, for requests that give none.
DEFAULT_HTTP_TIMEOUT = timedelta(seconds=240)
# RFC 9110 token characters: what a method name may consist of.
_METHOD = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_NAME = _METHOD
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$")
Headers = Mapping[str, str | list[str]]


class TokenSource(ABC):
    """Where the bearer token of a durable HTTP request comes from (the SDK's base class)."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The token source as the request JSON carries it (with its `kind`)."""


class ManagedIdentityTokenSource(TokenSource):
    """A token for `resource` from the app's Azure managed identity.

    The runtime gets it with azure-identity right before the request is sent, so the token
    is never stored in history; only the resource is.
    """

    KIND = "AzureManagedIdentity"

    def __init__(self, resource: str) -> None:
        if not isinstance(resource, str) or not resource.strip():
            raise ValueError(
                "resource must be the Azure AD resource of the API called, e.g. "
                f"'https://management.core.windows.net/', got {resource!r}"
            )
        self._resource = resource

    @property
    def resource(self) -> str:
        """The Azure AD resource (or scope) of the web API being called."""
        return self._resource

    def to_json(self) -> dict[str, Any]:
        """`{"resource", "kind"}`, as the SDK writes it."""
        return {"resource": self._resource, "kind": self.KIND}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ManagedIdentityTokenSource) and other.resource == self.resource

    def __hash__(self) -> int:
        return hash(self._resource)

    def __repr__(self) -> str:
        return f"ManagedIdentityTokenSource({self._resource!r})"


# The token source kinds a request JSON may name.
TOKEN_SOURCE_KINDS: dict[str, Callable[[Mapping[str, Any]], TokenSource]] = {
    ManagedIdentityTokenSource.KIND: lambda d: ManagedIdentityTokenSource(str(d.get("resource"))),
}


def token_source_from_json(data: object) -> TokenSource | None:
    """The token source a request JSON names (None for none)."""
    if data is None:
        return None
    kind = data.get("kind") if isinstance(data, Mapping) else None
    build = TOKEN_SOURCE_KINDS.get(kind) if isinstance(kind, str) else None
    if build is None or not isinstance(data, Mapping):
        raise InvalidHttpRequestError(
            f"The token source {data!r} is not supported; use df.ManagedIdentityTokenSource."
        )
    return build(data)


class DurableHttpRequest:
    """One durable HTTP request: what `call_http` records and the runtime sends.

    Constructor and properties are the SDK's; `asynchronous_pattern_enabled` and `timeout`
    are the extension's request fields (keyword-only here).
    """

    def __init__(
        self,
        method: str,
        uri: str,
        content: str | None = None,
        headers: Headers | None = None,
        token_source: TokenSource | None = None,
        *,
        asynchronous_pattern_enabled: bool = True,
        timeout: timedelta | None = None,
    ) -> None:
        self._method = check_method(method)
        self._uri = check_uri(uri)
        if content is not None and not isinstance(content, str):
            raise InvalidHttpRequestError(
                f"content of a DurableHttpRequest must be text, got {type(content).__name__}"
            )
        self._content = content
        self._headers = check_headers(headers)
        if token_source is not None and not isinstance(token_source, TokenSource):
            raise InvalidHttpRequestError(
                "token_source must be a TokenSource such as df.ManagedIdentityTokenSource, "
                f"got {token_source!r}"
            )
        self._token_source = token_source
        self._async = bool(asynchronous_pattern_enabled)
        if timeout is not None and (not isinstance(timeout, timedelta) or timeout <= timedelta(0)):
            raise InvalidHttpRequestError(f"timeout must be a positive timedelta, got {timeout!r}")
        self._timeout = timeout

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self._method

    @property
    def uri(self) -> str:
        """The absolute http(s) URI."""
        return self._uri

    @property
    def content(self) -> str | None:
        """The body, as text (already serialized)."""
        return self._content

    @property
    def headers(self) -> dict[str, str | list[str]] | None:
        """The request headers (None when there are none)."""
        return dict(self._headers) if self._headers else None

    @property
    def token_source(self) -> TokenSource | None:
        """Where the bearer token comes from (None: no Authorization header is added)."""
        return self._token_source

    @property
    def asynchronous_pattern_enabled(self) -> bool:
        """Whether a 202 with a Location header is polled until another status comes."""
        return self._async

    @property
    def timeout(self) -> timedelta | None:
        """How long one request may take (None: the default, 240 seconds)."""
        return self._timeout

    def to_json(self) -> dict[str, Any]:
        """The request as the extension serializes it (all its fields)."""
        return {
            "method": self._method,
            "uri": self._uri,
            "headers": dict(self._headers),
            "content": self._content,
            "tokenSource": self._token_source.to_json() if self._token_source else None,
            "asynchronousPatternEnabled": self._async,
            "timeout": _format_timespan(self._timeout) if self._timeout else None,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> DurableHttpRequest:
        """Read what `to_json` (or the extension) wrote."""
        timeout = data.get("timeout")
        return DurableHttpRequest(
            str(data.get("method") or "GET"),
            str(data.get("uri") or ""),
            data.get("content"),
            data.get("headers") or None,
            token_source_from_json(data.get("tokenSource")),
            asynchronous_pattern_enabled=data.get("asynchronousPatternEnabled", True) is not False,
            timeout=_parse_timespan(timeout) if timeout else None,
        )

    def activity_input(self) -> str:
        """The TaskScheduled input: a one-element array, as Durable Task passes parameters."""
        return json.dumps([self.to_json()])

    @staticmethod
    def from_activity_input(text: str | None) -> DurableHttpRequest:
        """The request a `BuiltIn::HttpActivity` work item carries."""
        try:
            data = json.loads(text or "")
        except json.JSONDecodeError as exc:
            raise InvalidHttpRequestError(f"The HTTP activity's input is not JSON: {exc}") from None
        if isinstance(data, list) and data:
            data = data[0]
        if not isinstance(data, Mapping):
            raise InvalidHttpRequestError("The HTTP activity's input is not a request object")
        return DurableHttpRequest.from_json(data)

    def poll(self, location: str) -> DurableHttpRequest:
        """The GET of a 202's Location: same headers (less `x-functions-key`, which is
        usually not valid for the status endpoint), token source and timeout."""
        headers = {k: v for k, v in self._headers.items() if k.lower() != "x-functions-key"}
        return DurableHttpRequest(
            "GET", urljoin(self._uri, location), None, headers, self._token_source,
            timeout=self._timeout,
        )

    def __repr__(self) -> str:
        return f"DurableHttpRequest({self._method} {self._uri})"


class DurableHttpResponse(dict[str, Any]):
    """The response of a durable HTTP request.

    It is the dict the SDK gives (`response["statusCode"]`, `["headers"]`, `["content"]`),
    with the fields also as attributes (`status_code`, `headers`, `content`).
    """

    def __init__(
        self, status_code: int, headers: Headers | None = None, content: str | None = None
    ) -> None:
        super().__init__(statusCode=status_code, headers=dict(headers or {}), content=content)

    @property
    def status_code(self) -> int:
        """The HTTP status code."""
        return int(self["statusCode"])

    @property
    def headers(self) -> dict[str, str | list[str]]:
        """Response headers; a header sent more than once has a list of values."""
        return dict(self["headers"] or {})

    @property
    def content(self) -> str | None:
        """The body, decoded as text ("" for an empty one)."""
        value = self["content"]
        return value if value is None else str(value)

    def header(self, name: str) -> str | None:
        """The (first) value of header `name`, matched case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value[0] if isinstance(value, list) and value else str(value)
        return None

    def to_json(self) -> dict[str, Any]:
        """`{"statusCode", "headers", "content"}`, as Durable Functions writes it."""
        return dict(self)

    @staticmethod
    def from_json(data: str | Mapping[str, Any]) -> DurableHttpResponse:
        """Read a response from its JSON (text or decoded)."""
        try:
            decoded = json.loads(data) if isinstance(data, str) else data
            if not isinstance(decoded, Mapping):
                raise ValueError("not a JSON object")
            return DurableHttpResponse(
                int(decoded["statusCode"]), decoded.get("headers"), decoded.get("content")
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SerializationError(
                f"The result of a call_http is not an HTTP response ({exc}): {str(data)[:200]}"
            ) from None


def http_content(content: Any, is_raw_str: bool) -> str | None:
    """The body `call_http` sends, serialized as the SDK does: JSON (`json.dumps`), except a
    str passed with `is_raw_str=True`, which is sent as it is."""
    if is_raw_str and not isinstance(content, str):
        raise TypeError(
            "Invalid use of 'is_raw_str' parameter: 'is_raw_str' is set to 'True' but "
            "'content' is not an instance of type 'str'. Either set 'is_raw_str' to 'False', "
            "or ensure your 'content' is of type 'str'."
        )
    if content is None:
        return None
    if is_raw_str:
        return str(content)
    try:
        return json.dumps(content)
    except (TypeError, ValueError) as exc:
        raise SerializationError(
            f"Cannot serialize the content of call_http ({type(content).__name__}): {exc}. "
            "Pass JSON-compatible data, or a str with is_raw_str=True."
        ) from None


def check_method(method: object) -> str:
    """A method name (GET, POST, a custom token...), or InvalidHttpRequestError."""
    if not isinstance(method, str) or not _METHOD.match(method):
        raise InvalidHttpRequestError(
            f"call_http method must be an HTTP method name such as 'GET' or 'POST', "
            f"got {method!r}"
        )
    return method


def check_uri(uri: object) -> str:
    """An absolute http(s) URI with a host, or InvalidHttpRequestError."""
    if not isinstance(uri, str) or not _is_http_uri(uri):
        raise InvalidHttpRequestError(
            f"call_http uri must be an absolute http:// or https:// URI with a host, e.g. "
            f"'https://example.com/api', got {uri!r}"
        )
    return uri


def _is_http_uri(uri: str) -> bool:
    if any(c.isspace() for c in uri):
        return False
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_headers(headers: object) -> dict[str, str | list[str]]:
    """Header names are tokens; values are strings or lists of strings."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidHttpRequestError(f"headers must be a dict of str to str, got {headers!r}")
    out: dict[str, str | list[str]] = {}
    for name, value in headers.items():
        single = isinstance(value, str)
        many = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not isinstance(name, str) or not _HEADER_NAME.match(name) or not (single or many):
            raise InvalidHttpRequestError(
                f"header {name!r}: {value!r} is not valid; headers map names (HTTP tokens) "
                "to str values (or lists of str)"
            )
        out[name] = value if single else list(value)
    return out


def _format_timespan(span: timedelta) -> str:
    """A .NET TimeSpan as JSON carries it: `[d.]hh:mm:ss[.fffffff]`."""
    total = span.total_seconds()
    days, rest = divmod(int(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = round((total - int(total)) * 10_000_000)
    text = f"{hours:02}:{minutes:02}:{seconds:02}" + (f".{fraction:07}" if fraction else "")
    return f"{days}.{text}" if days else text


def _parse_timespan(value: object) -> timedelta:
    match = _TIMESPAN.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidHttpRequestError(f"timeout must be a time span like '00:00:30', got {value!r}")
    days, hours, minutes, seconds = match.groups()
    return timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes),
                     seconds=float(seconds))
