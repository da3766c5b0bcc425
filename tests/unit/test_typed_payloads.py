"""Typed payloads (SDK 1.7): `expected_type=`, `input_type=`, return annotations, and the
codec of `azure.functions` with its strict mode (`AZURE_FUNCTIONS_DURABLE_STRICT_TYPING`)."""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import pytest

import durable as df
from durable.app.payloads import CODEC
from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core import events as ev
from durable.core.entities import EntityId
from durable.core.entity_context import DurableEntityContext
from durable.core.history import HistoryEvent
from durable.core.registry import INPUT_TYPE_ATTRIBUTE, KIND_ATTRIBUTE, NAME_ATTRIBUTE
from durable.core.serialization import dumps, loads
from durable.errors import SerializationError
from durable.testing import ExternalEvent, run_orchestrator
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext
STRICT = "AZURE_FUNCTIONS_DURABLE_STRICT_TYPING"


@dataclass
class Order:
    """A custom payload class in the SDK's shape (to_json / from_json)."""

    item: str
    quantity: int

    @staticmethod
    def to_json(obj: Order) -> dict[str, Any]:
        return {"item": obj.item, "quantity": obj.quantity}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        return cls(data["item"], data["quantity"])


def make_order(value: Any) -> Order:  # stands for a decorated activity
    return Order("pen", 2)


setattr(make_order, NAME_ATTRIBUTE, "make_order")
setattr(make_order, KIND_ATTRIBUTE, "activity")

ORDER_JSON = dumps(Order("pen", 2), "test")


def raw_completed(h: Harness, task_id: int, text: str) -> HistoryEvent:
    return ev.task_completed(h.now, task_scheduled_id=task_id, result=text)


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STRICT, "1")


def test_the_sdk_codec_is_the_one_installed() -> None:
    assert CODEC.validates  # azure.functions >= 1.26 has df_dumps/df_loads
    assert json.loads(ORDER_JSON) == {
        "__class__": "Order", "__module__": __name__, "__data__": {"item": "pen", "quantity": 2}
    }


def test_strict_mode_needs_a_type_for_custom_objects(strict: None) -> None:
    with pytest.raises(SerializationError, match="strict mode requires expected_type"):
        loads(ORDER_JSON)
    assert loads(ORDER_JSON, Order) == Order("pen", 2)
    with pytest.raises(SerializationError, match="expected .*int"):
        loads(ORDER_JSON, int)


def test_strict_mode_refuses_nested_custom_objects(strict: None) -> None:
    with pytest.raises(SerializationError, match="type dict passed as input"):
        dumps({"order": Order("pen", 1)}, "input")
    assert loads(dumps(Order("pen", 1), "input"), Order) == Order("pen", 1)


def orchestrate_order(ctx: Ctx, how: str) -> Gen:
    if how == "expected_type":
        order = yield ctx.call_activity("make_order", None, expected_type=Order)
    elif how == "annotation":
        order = yield ctx.call_activity(make_order)
    else:
        order = yield ctx.call_activity("make_order")
    return [type(order).__name__, order.quantity if isinstance(order, Order) else None]


@pytest.mark.parametrize("how", ["expected_type", "annotation"])
def test_activity_results_decode_as_the_expected_type(strict: None, how: str) -> None:
    h = Harness(lambda ctx: orchestrate_order(ctx, how))
    h.start()
    done = h.run(raw_completed(h, 0, ORDER_JSON))
    assert done.status is OrchestrationStatus.Completed, done.output
    assert done.output == '["Order", 2]'


def test_without_a_type_strict_mode_fails_the_task_readably(strict: None) -> None:
    h = Harness(lambda ctx: orchestrate_order(ctx, "none"))
    h.start()
    done = h.run(raw_completed(h, 0, ORDER_JSON))
    assert done.status is OrchestrationStatus.Failed
    assert done.failure_details is not None
    assert "strict mode requires expected_type" in done.failure_details.error_message


def test_loose_mode_decodes_loaded_classes_without_a_type() -> None:
    h = Harness(lambda ctx: orchestrate_order(ctx, "none"))
    h.start()
    assert h.run(raw_completed(h, 0, ORDER_JSON)).output == '["Order", 2]'


def test_inputs_and_events_decode_as_declared(strict: None) -> None:
    def orch(ctx: Ctx) -> Gen:
        given = ctx.get_input()
        event = yield ctx.wait_for_external_event("order", expected_type=Order)
        return [given.item, event.quantity]

    setattr(orch, INPUT_TYPE_ATTRIBUTE, Order)
    run = run_orchestrator(orch, Order("ink", 1), events=[ExternalEvent("order", Order("cap", 5))])
    assert run.status is df.OrchestrationRuntimeStatus.Completed, run.output
    assert run.output == ["ink", 5]


def test_get_input_takes_an_expected_type(strict: None) -> None:
    def orch(ctx: Ctx) -> Any:
        return ctx.get_input(expected_type=Order).quantity

    assert run_orchestrator(orch, Order("ink", 3)).output == 3


def test_entity_results_and_state_decode_as_declared(strict: None) -> None:
    def orch(ctx: Ctx) -> Gen:
        return (yield ctx.call_entity(EntityId("shop", "1"), "last", expected_type=Order)).item

    h = Harness(orch)
    call = h.start().actions[0]
    request_id = json.loads(call.input)["id"]
    response = json.dumps({"result": ORDER_JSON})
    assert h.run(h.raised_raw(request_id, response)).output == '"pen"'

    payload = {"self": {"name": "shop", "key": "1"}, "exists": True, "state": ORDER_JSON,
               "batch": []}
    context, _ = DurableEntityContext.from_json(json.dumps(payload))
    assert context.get_state(expected_type=Order) == Order("pen", 2)
