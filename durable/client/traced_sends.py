"""What the client sends that starts work, inside Durable Task's producer spans while
tracing is on: an instance's start (`create_orchestration:{name}`) and an external event
(`orchestration_event:{name}`). The message's event carries the span's context as its
`ParentTraceContext`, so the work it starts joins the caller's trace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from durable.core.history import EventType
from durable.core.messages import TaskMessage
from durable.runtime import tracing
from durable.storage.interface import TaskHubStorage

# Hands a message to this process's worker of the hub; False when it has none.
Deliver = Callable[[TaskMessage], Awaitable[bool]]


async def send_start(
    hub: TaskHubStorage,
    message: TaskMessage,
    deliver: Deliver | None = None,
) -> None:
    """Send the ExecutionStarted message (`deliver` hands it to this process's worker when
    it has one). While tracing is on, it is sent inside Durable Task's
    `create_orchestration:{name}` producer span (child of the ambient span: an HTTP
    request, the caller's own span), whose context the event carries as its
    `ParentTraceContext`, so that the orchestration's trace continues the caller's."""

    async def send(out: TaskMessage) -> None:
        if deliver is None or not await deliver(out):
            await hub.queues.send(out)

    if not tracing.active():
        await send(message)
        return
    started = message.event
    attrs = tracing.task_attributes("orchestration", started.name or "", message.instance_id,
                                    message.execution_id, hub.hub_name)
    name = tracing.span_name("create_orchestration", started.name or "", started.version)
    with tracing.span(name, "producer", attrs):
        traced = started.replace(trace_context=tracing.current())
        await send(replace(message, event=traced))


async def send_event(hub: TaskHubStorage, message: TaskMessage) -> None:
    """Send a message to an instance; an external event (EventRaised) inside an
    `orchestration_event:{event name}` producer span while tracing is on, which the
    receiving orchestration's span then links to."""
    event = message.event
    if event.event_type is not EventType.EventRaised or not tracing.active():
        await hub.queues.send(message)
        return
    attrs: dict[str, str | int] = {
        tracing.TYPE: "event",
        tracing.EVENT_NAME: event.name or "",
        tracing.EVENT_TARGET: message.instance_id,
        tracing.TASK_HUB: hub.hub_name,
    }
    with tracing.span(tracing.span_name("orchestration_event", event.name or ""), "producer",
                      attrs):
        traced = event.replace(trace_context=tracing.current())
        await hub.queues.send(replace(message, event=traced))
