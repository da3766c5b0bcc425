"""Sending an instance's start, inside a `create_orchestration` span while tracing is on."""

from __future__ import annotations

from dataclasses import replace

from durable.core.messages import TaskMessage
from durable.runtime import tracing
from durable.storage.interface import TaskHubStorage


async def send_start(hub: TaskHubStorage, message: TaskMessage) -> None:
    """Send the ExecutionStarted message. While tracing is on, it is sent inside Durable
    Task's `create_orchestration:{name}` producer span (child of the ambient span: an HTTP
    request, the caller's own span), whose context the event carries as its
    `ParentTraceContext`, so that the orchestration's trace continues the caller's."""
    if not tracing.active():
        await hub.queues.send(message)
        return
    started = message.event
    attrs: dict[str, str | int] = {
        tracing.TYPE: "orchestration",
        tracing.TASK_NAME: started.name or "",
        tracing.INSTANCE_ID: message.instance_id,
        tracing.EXECUTION_ID: message.execution_id or "",
        tracing.TASK_HUB: hub.hub_name,
    }
    name = tracing.span_name("create_orchestration", started.name or "", started.version)
    with tracing.span(name, "producer", attrs):
        traced = started.replace(trace_context=tracing.current())
        await hub.queues.send(replace(message, event=traced))
