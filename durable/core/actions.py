"""Outbound actions an orchestration episode asks the runtime to carry out.

Every action is also recorded in the episode's new history (TaskScheduled, TimerCreated,
SubOrchestrationInstanceCreated, EventSent, with their inputs), so a runtime can re-derive
the messages to send from committed history after a crash. The action objects are the
convenient form of the same facts. Payloads are JSON text, already encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ScheduleTask:
    """Run activity `name`; its completion comes back as TaskCompleted/TaskFailed(task_id)."""

    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True, slots=True)
class CreateTimer:
    """Deliver TimerFired(timer_id) at `fire_at` (timezone-aware UTC)."""

    timer_id: int
    fire_at: datetime


@dataclass(frozen=True, slots=True)
class CreateSubOrchestration:
    """Start orchestration `name` as `instance_id`, with this instance as its parent."""

    task_id: int
    name: str
    instance_id: str
    input: str | None


@dataclass(frozen=True, slots=True)
class SendEvent:
    """Raise event `name` on instance `instance_id` (an entity's `@name@key` for entity
    operations, whose input is the request message)."""

    event_id: int
    instance_id: str
    name: str
    input: str | None


Action = ScheduleTask | CreateTimer | CreateSubOrchestration | SendEvent


def describe_action(action: Action) -> str:
    """How an action reads in a non-determinism message: the API call that produced it."""
    if isinstance(action, ScheduleTask):
        return f"call_activity {action.name}"
    if isinstance(action, CreateTimer):
        return "create_timer"
    if isinstance(action, CreateSubOrchestration):
        return f"call_sub_orchestrator {action.name} (instance '{action.instance_id}')"
    return f"send event {action.name} to '{action.instance_id}'"
