"""OpenTelemetry in the host: `start --trace` prints spans, and HTTP requests get a span.

The Functions host records each HTTP-triggered invocation as a request, continuing the
caller's W3C trace (`traceparent` header) and handing that context to the worker, where it
is the ambient context of the function. This host does the same when a tracer provider is
set (by `--trace`, or by the app itself, the standard OpenTelemetry way): a `SERVER` span per
request, current while the function runs, so that what the function does (a durable
client's `start_new`) joins the caller's trace. Without the OpenTelemetry API installed, or
with no provider set, nothing here costs more than one check.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from emulator.errors import ConfigError

try:
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _PROPAGATOR: Any = TraceContextTextMapPropagator()
except ImportError:  # the otel extra is not installed
    otel_trace = None  # type: ignore[assignment]

_INSTALL = "pip install 'durable-azure-storage[otel]' (opentelemetry-api and opentelemetry-sdk)"


def setup(target: str, service_name: str) -> None:
    """Export every span as it ends: pretty JSON on stdout when `target` is "-", else one
    JSON object per line appended to the file `target`. The service is named after the app's
    folder unless `OTEL_SERVICE_NAME` says otherwise (the `OTEL_*` resource variables apply)."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
    except ImportError:
        raise ConfigError("--trace needs the OpenTelemetry SDK.",
                          f"Install it: {_INSTALL}.") from None
    out: IO[str]
    if target == "-":
        out, exporter = sys.stdout, ConsoleSpanExporter(out=sys.stdout)
    else:
        try:
            out = Path(target).open("a", encoding="utf-8", buffering=1)  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"Cannot write spans to '{target}': {exc}.",
                              "Pass --trace a file in a folder that exists.") from None

        def one_line(span: ReadableSpan) -> str:
            return json.dumps(json.loads(span.to_json()), separators=(",", ":")) + "\n"

        exporter = ConsoleSpanExporter(out=out, formatter=one_line)
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_trace.set_tracer_provider(provider)


def _active() -> bool:
    if otel_trace is None:
        return False
    provider = otel_trace.get_tracer_provider()
    return not isinstance(provider, otel_trace.ProxyTracerProvider | otel_trace.NoOpTracerProvider)


class RequestSpan:
    """Lets the handler record the response's status on the request's span."""

    def __init__(self, span: Any) -> None:
        self._span = span

    def status(self, code: int) -> None:
        """Record the HTTP status; 5xx marks the span failed, as for any server."""
        if self._span is None:
            return
        self._span.set_attribute("http.response.status_code", code)
        if code >= 500:
            self._span.set_status(Status(StatusCode.ERROR, f"HTTP {code}"))


@contextmanager
def request_span(
    function_name: str, method: str, path: str, headers: Mapping[str, str]
) -> Iterator[RequestSpan]:
    """A current `SERVER` span for one HTTP invocation, continuing the caller's trace."""
    if not _active():
        yield RequestSpan(None)
        return
    parent = _PROPAGATOR.extract({k.lower(): v for k, v in headers.items()})
    tracer = otel_trace.get_tracer("emulator")
    attrs = {"http.request.method": method, "url.path": path, "faas.trigger": "http",
             "faas.name": function_name}
    with tracer.start_as_current_span(
        f"{method} {function_name}", context=parent, kind=SpanKind.SERVER, attributes=attrs
    ) as span:
        yield RequestSpan(span)
