"""The dispatcher Functions: ordinary queue-triggered Functions that run durable work.

Registering them as standard `queueTrigger` Functions is what lets a deployed app run with no
Durable extension: Azure Functions scales them out like any queue-driven app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func

from durable.app.management import register_management_api
from durable.app.root import process
from durable.storage.names import control_queue_name, work_item_queue_name

Body = Callable[[func.QueueMessage], Awaitable[None]]


def register_dispatchers(container: Any) -> None:
    """Add a control-queue Function per partition, the work-item Function and the
    management API to a `DFApp` (or the first `Blueprint` of a plain `FunctionApp`)."""
    settings = process.layout()
    connection = settings.connection_name
    hub = settings.hub_name
    for partition in range(settings.partition_count):
        _register_queue_function(
            container,
            f"durable_control_{partition:02d}",
            control_queue_name(hub, partition),
            connection,
            _on_control,
        )
    _register_queue_function(
        container, "durable_workitems", work_item_queue_name(hub), connection, _on_work_item
    )
    register_management_api(container)


def _register_queue_function(
    container: Any, name: str, queue: str, connection: str, body: Body
) -> None:
    async def dispatcher(msg: func.QueueMessage) -> None:
        await body(msg)

    dispatcher.__name__ = name
    dispatcher.__qualname__ = name
    container.function_name(name)(
        container.queue_trigger(arg_name="msg", queue_name=queue, connection=connection)(
            dispatcher
        )
    )


async def _on_control(msg: func.QueueMessage) -> None:
    worker = await process.worker()
    await worker.on_control_message(msg.get_body(), msg.dequeue_count or 1)


async def _on_work_item(msg: func.QueueMessage) -> None:
    worker = await process.worker()
    await worker.on_work_item(msg.get_body(), msg.dequeue_count or 1)
