"""The BuiltIn::HttpActivity runner and the token provider, against a real aiohttp server on
loopback (no task hub needed: what the worker does with one work item)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from durable.core.http import DurableHttpRequest, ManagedIdentityTokenSource
from durable.errors import HttpCallError, TokenAcquisitionError
from durable.runtime.http_activity import HttpActivity
from durable.runtime.tokens import TokenProvider

Seen = list[dict[str, Any]]


def _app(seen: Seen) -> web.Application:
    async def inspect(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen.append({"headers": dict(request.headers), "body": body, "method": request.method})
        response = web.Response(body="héllo".encode("latin-1"),
                                headers={"Content-Type": "text/plain; charset=latin-1"})
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        return response

    async def identity(request: web.Request) -> web.Response:
        seen.append({"identity": dict(request.query)})
        return web.json_response({"access_token": f"tok-{len(seen)}",
                                  "expires_on": str(int(time.time()) + 3600),
                                  "resource": request.query.get("resource"),
                                  "token_type": "Bearer"})

    async def refuse(request: web.Request) -> web.Response:
        seen.append({"identity": "refused"})
        return web.json_response({"error": "invalid_resource"}, status=400)

    app = web.Application()
    app.router.add_route("*", "/inspect", inspect)
    app.router.add_get("/msi", identity)
    app.router.add_get("/msi-refuses", refuse)
    return app


@pytest.fixture
async def site() -> AsyncIterator[tuple[str, Seen]]:
    seen: Seen = []
    server = TestServer(_app(seen), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), seen
    finally:
        await server.close()


def _input(request: DurableHttpRequest) -> str:
    return request.activity_input()


async def test_repeated_headers_are_a_list_and_the_charset_decodes_the_body(
    site: tuple[str, Seen],
) -> None:
    base, seen = site
    result = await HttpActivity().run(_input(DurableHttpRequest("GET", f"{base}/inspect")))
    assert result["statusCode"] == 200 and result["content"] == "héllo"
    assert result["headers"]["Set-Cookie"] == ["a=1", "b=2"]
    assert json.loads(json.dumps(result)) == result  # what TaskCompleted records
    assert seen[0]["body"] == b"" and "Authorization" not in seen[0]["headers"]


async def test_a_body_is_text_plain_unless_the_headers_say_otherwise(
    site: tuple[str, Seen],
) -> None:
    base, seen = site
    activity = HttpActivity()
    await activity.run(_input(DurableHttpRequest("POST", f"{base}/inspect", "x=1")))
    await activity.run(_input(DurableHttpRequest(
        "POST", f"{base}/inspect", "x=1", {"content-type": "application/x-www-form-urlencoded"}
    )))
    assert seen[0]["headers"]["Content-Type"] == "text/plain" and seen[0]["body"] == b"x=1"
    assert seen[1]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_multipart_content_is_refused_as_the_extension_does(
    site: tuple[str, Seen],
) -> None:
    base, seen = site
    request = DurableHttpRequest("POST", f"{base}/inspect", "--b--",
                                 {"Content-Type": "multipart/form-data; boundary=b"})
    with pytest.raises(HttpCallError, match="multipart"):
        await HttpActivity().run(_input(request))
    assert seen == []


def _identity_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """What App Service sets for an app with a managed identity (here: the test's server)."""
    for name in ("MSI_ENDPOINT", "MSI_SECRET", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "h")


async def test_managed_identity_tokens_are_reused_until_they_expire(
    site: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen = site
    _identity_at(monkeypatch, f"{base}/msi")
    tokens = TokenProvider()
    activity = HttpActivity(tokens)
    source = ManagedIdentityTokenSource("https://management.core.windows.net/")
    request = DurableHttpRequest("GET", f"{base}/inspect", token_source=source)
    await activity.run(_input(request))
    await activity.run(_input(request))
    identity = [s for s in seen if "identity" in s]
    sent = [s["headers"]["Authorization"] for s in seen if "headers" in s]
    assert len(identity) == 1 and identity[0]["identity"]["resource"] == (
        "https://management.core.windows.net"
    )
    assert sent == ["Bearer tok-1", "Bearer tok-1"]


async def test_an_identity_endpoint_that_refuses_is_a_token_acquisition_error(
    site: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen = site
    _identity_at(monkeypatch, f"{base}/msi-refuses")
    tokens = TokenProvider()
    with pytest.raises(TokenAcquisitionError, match="managed identity"):
        await tokens.get_token(ManagedIdentityTokenSource("https://vault.azure.net"))
    assert seen and seen[0]["identity"] == "refused"
