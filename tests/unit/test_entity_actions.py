"""call_entity / signal_entity produce EventSent actions; responses complete call_entity."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext, EntityId, OrchestrationStatus
from durable.core import events as ev
from durable.core.actions import SendEvent
from durable.core.entities import response_message
from durable.core.history import FailureDetails
from durable.errors import TaskFailedError
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def test_entity_id_scheduler_id() -> None:
    entity = EntityId("Counter", "k1")
    assert entity.get_scheduler_id() == "@counter@k1"
    assert EntityId.get_entity_id("@counter@k1") == EntityId("counter", "k1")
    with pytest.raises(ValueError, match="name"):
        EntityId("", "k")


def test_signal_and_call_entity() -> None:
    errors: list[TaskFailedError] = []

    def orch(ctx: Ctx) -> Gen:
        ctx.signal_entity(EntityId("Counter", "a"), "add", 5)
        value = yield ctx.call_entity(EntityId("Counter", "a"), "get")
        try:
            yield ctx.call_entity(EntityId("Counter", "a"), "explode")
        except TaskFailedError as exc:
            errors.append(exc)
        return value

    h = Harness(orch, instance_id="orch-1")
    first = h.start()
    signal, call = first.actions
    assert isinstance(signal, SendEvent) and isinstance(call, SendEvent)
    assert (signal.event_id, signal.instance_id, signal.name) == (0, "@counter@a", "op")
    body = json.loads(signal.input or "")
    assert body["op"] == "add" and body["signal"] is True and body["input"] == "5"
    assert body["parent"] == "orch-1"
    request = json.loads(call.input or "")
    assert request["signal"] is False and request["op"] == "get"
    response = ev.event_raised(h.now, name=request["id"], input=response_message("6"))
    second = h.run(response)
    failing = json.loads(second.actions[0].input or "")  # type: ignore[union-attr]
    failure = FailureDetails("ValueError", "cannot explode", "stack")
    done = h.run(ev.event_raised(h.now, name=failing["id"], input=response_message(None, failure)))
    assert done.status is OrchestrationStatus.Completed and done.output == "6"
    assert str(errors[0]) == "cannot explode" and errors[0].error_type == "ValueError"


def test_entity_requests_are_deterministic_across_replay() -> None:
    def orch(ctx: Ctx) -> Gen:
        return (yield ctx.call_entity(EntityId("c", "k"), "get"))

    h = Harness(orch)
    first = h.start()
    assert h.replay().status is OrchestrationStatus.Running  # same request id on replay
    request = json.loads(first.actions[0].input or "")  # type: ignore[union-attr]
    done = h.run(ev.event_raised(h.now, name=request["id"], input=response_message('"v"')))
    assert done.output == '"v"'
