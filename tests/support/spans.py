"""Spans for tests: the OpenTelemetry SDK's in-memory exporter behind the global provider
(in-process tests), JSON-lines span files written by hosts started with `--trace FILE`
(multi-process tests), and the checks both share."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()


def in_memory_exporter() -> InMemorySpanExporter:
    """The process-wide exporter (OpenTelemetry allows one global provider per process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    return _EXPORTER


@dataclass(frozen=True)
class Span:
    """The parts of a finished span the tests look at, from either source."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str | None
    attributes: dict[str, Any]
    error: str | None
    events: tuple[str, ...]
    start_ns: int = 0
    links: tuple[str, ...] = ()

    @property
    def instance_id(self) -> str | None:
        value = self.attributes.get("durabletask.task.instance_id")
        return None if value is None else str(value)


def from_sdk(span: ReadableSpan) -> Span:
    ctx = span.context
    assert ctx is not None
    failed = span.status.status_code.name == "ERROR"
    return Span(
        span.name, span.kind.name, f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}",
        f"{span.parent.span_id:016x}" if span.parent else None,
        dict(span.attributes or {}), (span.status.description or "") if failed else None,
        tuple(e.name for e in span.events), span.start_time or 0,
        tuple(f"{link.context.span_id:016x}" for link in span.links),
    )


def from_json_line(line: str) -> Span:
    data = json.loads(line)
    ctx = data["context"]
    status = data.get("status") or {}
    failed = status.get("status_code") == "ERROR"
    return Span(
        data["name"], str(data["kind"]).removeprefix("SpanKind."),
        ctx["trace_id"].removeprefix("0x"), ctx["span_id"].removeprefix("0x"),
        data["parent_id"].removeprefix("0x") if data.get("parent_id") else None,
        dict(data.get("attributes") or {}), (status.get("description") or "") if failed else None,
        tuple(e["name"] for e in data.get("events") or ()),
        links=tuple(link["context"]["span_id"].removeprefix("0x")
                    for link in data.get("links") or ()),
    )


def recorded(hub: str) -> list[Span]:
    """The in-memory spans of one task hub, with the client spans that started its work."""
    return of_hub([from_sdk(s) for s in in_memory_exporter().get_finished_spans()], hub)


def read_files(*paths: Path) -> list[Span]:
    spans: list[Span] = []
    for path in paths:
        if path.exists():
            spans += [from_json_line(line) for line in path.read_text().splitlines() if line]
    return spans


def of_hub(spans: list[Span], hub: str) -> list[Span]:
    return [s for s in spans if s.attributes.get("durabletask.task_hub") == hub]


def by_name(spans: list[Span], prefix: str) -> list[Span]:
    return [s for s in spans if s.name.startswith(prefix)]


def one(spans: list[Span], name: str, instance_id: str) -> Span:
    found = [s for s in spans if s.name == name and s.instance_id == instance_id]
    assert len(found) == 1, (name, instance_id, [s.name for s in spans])
    return found[0]


def duplicate_ids(spans: list[Span]) -> list[str]:
    return [k for k, n in Counter(s.span_id for s in spans).items() if n > 1]
