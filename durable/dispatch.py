"""The dispatcher Functions: ordinary queue-triggered Functions that run durable work.

Registering them as standard `queueTrigger` Functions is what lets a deployed app run with no
Durable extension: Azure Functions scales them out like any queue-driven app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from durable.runtime import config

if TYPE_CHECKING:
    from azure.functions.decorators.function_app import DecoratorApi


def register_dispatchers(container: DecoratorApi) -> None:
    settings = config.load_layout()
    connection = settings.connection_name
    hub = settings.hub_name.lower()
    for partition in range(settings.partition_count):
        queue = f"{hub}-control-{partition:02d}"
        _register_queue_function(
            container, f"durable_control_{partition:02d}", queue, connection, _on_control
        )
    _register_queue_function(
        container, "durable_workitems", f"{hub}-workitems", connection, _on_work_item
    )
    from durable import http_api

    http_api.register_management_api(container)


def _register_queue_function(
    container: Any, name: str, queue: str, connection: str, body: Any
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
    from durable.runtime.worker import get_worker

    worker = await get_worker()
    await worker.on_control_message(msg.get_body(), msg.dequeue_count or 1)


async def _on_work_item(msg: func.QueueMessage) -> None:
    from durable.runtime.worker import get_worker

    worker = await get_worker()
    await worker.on_work_item(msg.get_body(), msg.dequeue_count or 1)
