"""CORS from local.settings.json `Host.CORS` (comma-separated origins, `*` for any) and
`Host.CORSCredentials`, as func start applies them to every HTTP function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_PREFLIGHT_METHODS = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"


def cors_middleware(origins: tuple[str, ...], credentials: bool) -> Middleware:
    allowed = {o.lower() for o in origins}
    any_origin = "*" in allowed

    def permits(origin: str) -> bool:
        return any_origin or origin.rstrip("/").lower() in allowed

    def decorate(response: web.StreamResponse, origin: str) -> None:
        echo = credentials or not any_origin
        response.headers["Access-Control-Allow-Origin"] = origin if echo else "*"
        if credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        if echo:
            response.headers.add("Vary", "Origin")

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if not origin or not permits(origin):
            return await handler(request)
        requested = request.headers.get("Access-Control-Request-Method")
        if request.method == "OPTIONS" and requested:
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = _PREFLIGHT_METHODS
            wanted = request.headers.get("Access-Control-Request-Headers")
            if wanted:
                response.headers["Access-Control-Allow-Headers"] = wanted
        else:
            response = await handler(request)
        decorate(response, origin)
        return response

    return cors
