"""The built-in activity `BuiltIn::HttpActivity`: one durable HTTP request, sent with aiohttp.

It runs like any activity (from the work-item queue, at least once, under the activity
concurrency limit) and returns the response as Durable Functions records it
(`{"statusCode", "headers", "content"}`); an error status is a result, not a failure.
A request that gets no response fails the activity with an `HttpCallError` subclass
(connection, timeout, token), which the orchestrator gets back at its `yield`.

How the request is built follows the extension: a body without a Content-Type header is
sent as `text/plain`; a token source adds `Authorization: Bearer <token>`; a request without
its own timeout gets 240 seconds, the extension's HTTP client timeout.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp

from durable.core.http import DEFAULT_HTTP_TIMEOUT, DurableHttpRequest, DurableHttpResponse
from durable.errors import HttpCallError, HttpConnectionError, HttpTimeoutError
from durable.runtime.tokens import TokenProvider

log = logging.getLogger("durable.http")

# The extension refuses multipart bodies (it sends the content as one string).
_MULTIPART = "multipart"


class HttpActivity:
    """Sends the requests of `call_http` (one per work item)."""

    def __init__(
        self,
        tokens: TokenProvider | None = None,
        default_timeout: timedelta = DEFAULT_HTTP_TIMEOUT,
    ) -> None:
        self._tokens = tokens or TokenProvider()
        self._default_timeout = default_timeout

    async def run(self, input_text: str | None) -> dict[str, Any]:
        """Send the request a work item carries and return the response's JSON."""
        request = DurableHttpRequest.from_activity_input(input_text)
        headers = await self._headers(request)
        timeout = (request.timeout or self._default_timeout).total_seconds()
        data = request.content.encode("utf-8") if request.content is not None else None
        where = f"{request.method} {request.uri}"
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
                session.request(request.method, request.uri, headers=headers, data=data) as answer,
            ):
                body = await answer.read()
                response = DurableHttpResponse(
                    answer.status, _headers_of(answer), _text(body, answer.charset)
                )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise HttpTimeoutError(
                f"call_http {where} got no response within {timeout:g} seconds. Raise the "
                "request's timeout (call_http(..., timeout=timedelta(...))) if the server "
                "is slow, or check that it answers at all."
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise HttpConnectionError(
                f"call_http {where} could not connect: {exc}. Check the host and port, and "
                "that the server is up and reachable from the app."
            ) from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise HttpCallError(
                f"call_http {where} failed without a response: {type(exc).__name__}: {exc}"
            ) from None
        log.info("call_http %s answered %d", where, response.status_code)
        return response.to_json()

    async def _headers(self, request: DurableHttpRequest) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        content_type: str | None = None
        for name, value in (request.headers or {}).items():
            values = value if isinstance(value, list) else [value]
            if name.lower() == "content-type":
                if any(_MULTIPART in v.lower() for v in values):
                    raise HttpCallError(
                        f"call_http {request.method} {request.uri}: multipart content is "
                        "not supported (as in Durable Functions); send it from an activity"
                    )
                content_type = values[-1] if values else None
                continue
            headers.extend((name, v) for v in values)
        if request.content is not None:
            headers.append(("Content-Type", content_type or "text/plain"))
        if request.token_source is not None:
            token = await self._tokens.get_token(request.token_source)
            headers.append(("Authorization", f"Bearer {token}"))
        return headers


def _headers_of(answer: aiohttp.ClientResponse) -> dict[str, str | list[str]]:
    """Headers as Durable Functions serializes them: one value as a str, several as a list,
    names as the server sent them (the first spelling for repeated ones)."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in answer.headers.items():
        key = name.lower()
        spelling.setdefault(key, name)
        grouped.setdefault(key, []).append(value)
    return {spelling[k]: (v[0] if len(v) == 1 else v) for k, v in grouped.items()}


def _text(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")

