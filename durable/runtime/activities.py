"""Activity execution: one work item in, one completion message out.

Activities run at least once: the completion is sent before the host deletes the work item,
so a crash in between re-runs the activity, and the orchestration ignores the second
completion (same message id, same task id).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from durable.core import serialization
from durable.core.actions import HTTP_ACTIVITY_NAME
from durable.core.driver import USER_ERRORS
from durable.core.history import EventType, FailureDetails, HistoryEvent
from durable.core.messages import TaskMessage
from durable.core.registry import DurableKind, DurableRegistry
from durable.errors import ActivityNotFoundError
from durable.runtime import stats, tracing
from durable.runtime.clock import Clock
from durable.runtime.http_activity import HttpActivity

log = logging.getLogger("durable.activity")


async def run_activity(
    registry: DurableRegistry,
    message: TaskMessage,
    clock: Clock,
    http: HttpActivity | None = None,
    hub_name: str = "",
) -> TaskMessage:
    """Run the activity a work item names and build its completion message; while tracing is
    on, inside an `activity:{name}` span, child of the task's client span.

    `BuiltIn::HttpActivity` (a `call_http` request) is sent by `http`, the worker's.
    """
    if not tracing.active():
        return await _run(registry, message, clock, http)
    scheduled = message.event
    attrs = tracing.task_attributes("activity", scheduled.name or "", message.instance_id,
                                    message.execution_id, hub_name, task_id=scheduled.event_id)
    name = tracing.span_name("activity", scheduled.name or "", scheduled.version)
    with tracing.span(name, "server", attrs, parent=scheduled.trace_context) as span:
        done = await _run(registry, message, clock, http)
        failed = done.event.failure_details
        span.set(tracing.STATUS, "Failed" if failed else "Completed")
        if failed is not None:
            span.fail(failed.error_message)
    return done


async def _run(
    registry: DurableRegistry, message: TaskMessage, clock: Clock, http: HttpActivity | None
) -> TaskMessage:
    scheduled = message.event
    name = scheduled.name or ""
    stats.count(stats.ACTIVITY_EXECUTIONS)
    try:
        if name.lower() == HTTP_ACTIVITY_NAME.lower():
            result: Any = await (http or HttpActivity()).run(scheduled.input)
        else:
            result = await _invoke(registry, name, scheduled.input)
        text = serialization.dumps(result, where=f"the result of activity '{name}'")
        done = HistoryEvent(
            EventType.TaskCompleted,
            timestamp=clock.now(),
            task_scheduled_id=scheduled.event_id,
            result=text,
        )
    except USER_ERRORS as exc:  # a user's error becomes a TaskFailed, never a crash
        details = FailureDetails.from_exception(exc)
        log.warning("Activity '%s' of instance '%s' failed: %s", name, message.instance_id,
                    details.error_message)
        done = HistoryEvent(
            EventType.TaskFailed,
            timestamp=clock.now(),
            task_scheduled_id=scheduled.event_id,
            reason=details.error_message,
            details=details.stack_trace,
            failure_details=details,
        )
    return TaskMessage(
        message_id=f"{message.message_id}:done",
        instance_id=message.instance_id,
        event=done,
        execution_id=message.execution_id,
    )


async def _invoke(registry: DurableRegistry, name: str, input_text: str | None) -> Any:
    fn = registry.get(DurableKind.ACTIVITY, name)
    if fn is None:
        known = ", ".join(registry.names(DurableKind.ACTIVITY)) or "none"
        raise ActivityNotFoundError(
            f"The activity function '{name}' does not exist in this app (activities: {known}). "
            "Check the name passed to call_activity, and that the module defining it is "
            "imported by function_app.py."
        )
    value = serialization.loads(input_text)
    if inspect.iscoroutinefunction(inspect.unwrap(fn.func)):
        return await fn.call(value)
    result = await asyncio.to_thread(fn.call, value)
    if inspect.isawaitable(result):
        return await result
    return result
