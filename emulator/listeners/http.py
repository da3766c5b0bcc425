"""HTTP triggers served with aiohttp.

Every HTTP function is reachable at `/{routePrefix}/{route}` (`routePrefix` from host.json
`extensions.http`, default `api`; `route` defaults to the function name). A route starting
with `runtime/webhooks/` is also served without the prefix, where the real host serves its
extensions' webhooks. Unknown paths get 404; a known path with another method gets 405 and
an `Allow` header. Auth levels are accepted but not enforced (keys are not checked), as
func start does. CORS follows local.settings.json `Host.CORS` / `Host.CORSCredentials`.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.log import access_logger
from multidict import CIMultiDict

from emulator import bindings, tracing, trigger_data
from emulator.errors import IndexingError
from emulator.functions import FunctionSpec
from emulator.invoker import InvocationFailed, Invoker
from emulator.listeners.cors import cors_middleware
from emulator.options import port_in_use
from emulator.routes import RouteTemplate, RouteTemplateError, parse_template, split_path

WEBHOOK_PREFIX = "runtime/webhooks/"
ALL_METHODS = ("GET", "POST", "DELETE", "HEAD", "PATCH", "PUT", "OPTIONS")
MAX_BODY = 100 * 1024 * 1024  # the Functions host's default request size limit
# aiohttp's default (8 KB) answers a longer URL itself, with a bare 400 and a traceback in the
# log; with room for long ids and query strings the function sees them and can say what is
# wrong with them.
MAX_LINE = 64 * 1024
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}
_REASON = "This function was programmatically called via the host APIs."


@dataclass(frozen=True)
class HttpRoute:
    spec: FunctionSpec
    template: RouteTemplate
    methods: frozenset[str] | None  # None: any method

    def allows(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def build_routes(functions: list[FunctionSpec], route_prefix: str) -> list[HttpRoute]:
    routes: list[HttpRoute] = []
    for spec in functions:
        config = spec.trigger.config
        route = str(config.get("route") or spec.name).strip().strip("/")
        methods = config.get("methods")
        allowed = frozenset(str(m).upper() for m in methods) if methods else None
        texts = [f"{route_prefix}/{route}".strip("/") if route_prefix else route]
        if route.lower().startswith(WEBHOOK_PREFIX) and route_prefix:
            texts.append(route)
        for text in texts:
            try:
                template = parse_template(text)
            except RouteTemplateError as exc:
                raise IndexingError(f"Function '{spec.name}': {exc}") from None
            routes.append(HttpRoute(spec, template, allowed))
    _check_conflicts(routes)
    return sorted(routes, key=lambda r: r.template.precedence)


def _check_conflicts(routes: list[HttpRoute]) -> None:
    seen: dict[str, HttpRoute] = {}
    for route in routes:
        for method in route.methods or ALL_METHODS:
            key = f"{method} {route.template.text.lower()}"
            other = seen.get(key)
            if other is not None and other.spec.name != route.spec.name:
                raise IndexingError(
                    f"Functions '{other.spec.name}' and '{route.spec.name}' both serve "
                    f"{method} /{route.template.text}.",
                    "Give one of them another route or other methods.",
                )
            seen[key] = route


class Router:
    def __init__(self, routes: list[HttpRoute]) -> None:
        self.routes = routes

    def resolve(
        self, method: str, segments: list[str]
    ) -> tuple[HttpRoute, dict[str, str]] | frozenset[str] | None:
        """The route and its values; or the allowed methods if only the method is wrong."""
        allowed: set[str] = set()
        for route in self.routes:
            values = route.template.match(segments)
            if values is None:
                continue
            if route.allows(method):
                return route, values
            allowed.update(route.methods or ALL_METHODS)
        return frozenset(allowed) if allowed else None


def _welcome() -> web.Response:
    return web.Response(
        text="<html><body><h1>Your Functions app is up and running</h1>"
        "<p>Served by python -m emulator.</p></body></html>",
        content_type="text/html",
    )


def make_handler(
    router: Router, invoker: Invoker
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        segments = split_path(request.rel_url.raw_path)
        found = router.resolve(request.method, segments)
        if found is None:
            if not segments and request.method in ("GET", "HEAD"):
                return _welcome()
            return web.Response(status=404)
        if isinstance(found, frozenset):
            return web.Response(status=405, headers={"Allow": ", ".join(sorted(found))})
        route, values = found
        body = await request.read()
        req = bindings.http_request(
            request.method, str(request.url), request.headers.items(),
            request.query.items(), values, body,
        )
        data = (trigger_data.http_data(values, dict(req.params), dict(req.headers), body)
                if route.spec.uses_binding_data else None)
        with tracing.request_span(route.spec.name, request.method, request.path,
                                  request.headers) as span:
            try:
                result = await invoker.invoke(route.spec, req, _REASON, None, data)
            except InvocationFailed:
                span.status(500)
                return web.Response(status=500)
            span.status(result.status)
        headers = CIMultiDict((k, v) for k, v in result.headers if k.lower() not in _HOP_BY_HOP)
        return web.Response(status=result.status, headers=headers, body=result.body)

    return handle


class HttpListener:
    def __init__(self, router: Router, invoker: Invoker, cors_origins: tuple[str, ...],
                 cors_credentials: bool, verbose: bool) -> None:
        middlewares = [cors_middleware(cors_origins, cors_credentials)] if cors_origins else []
        self._app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
        self._app.router.add_route("*", "/{tail:.*}", make_handler(router, invoker))
        self._runner = web.AppRunner(
            self._app, access_log=access_logger if verbose else None, shutdown_timeout=30.0,
            max_line_size=MAX_LINE, max_field_size=MAX_LINE,
        )

    async def start(self, host: str, port: int, sock: socket.socket | None = None) -> None:
        """Listen on host:port, or on `sock` (a listening socket handed over by the reloader)."""
        await self._runner.setup()
        site: web.BaseSite = (web.SockSite(self._runner, sock) if sock is not None
                              else web.TCPSite(self._runner, host, port))
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise port_in_use(port) from None
            raise

    async def stop_accepting(self) -> None:
        """Close the listening socket; requests in progress carry on."""
        for site in list(self._runner.sites):
            await site.stop()

    async def stop(self) -> None:
        """Stop listening, then wait (bounded) for requests in progress."""
        await self._runner.cleanup()
