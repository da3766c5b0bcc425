"""Payload encoding: plain JSON, to_json/from_json classes as the SDK writes them, errors."""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import datetime
from typing import Any

import pytest

from durable.core import DurableOrchestrationContext, OrchestrationStatus, dumps, loads
from durable.errors import DurableError, SerializationError
from tests.support.harness import Harness

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


class Money:
    def __init__(self, amount: int, currency: str) -> None:
        self.amount, self.currency = amount, currency

    @staticmethod
    def to_json(obj: Money) -> dict[str, Any]:
        return {"amount": obj.amount, "currency": obj.currency}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Money:
        return cls(data["amount"], data["currency"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and vars(self) == vars(other)


class NoFromJson:
    @staticmethod
    def to_json(obj: NoFromJson) -> int:
        return 1


def test_plain_json_round_trip() -> None:
    value = {"a": [1, 2.5, None, True], "b": "ü"}
    assert loads(dumps(value, "test")) == value
    assert loads(None) is None and loads("") is None


def test_custom_class_uses_the_sdk_shape() -> None:
    text = dumps({"price": Money(5, "EUR")}, "input of activity 'pay'")
    assert json.loads(text) == {
        "price": {
            "__class__": "Money",
            "__module__": __name__,
            "__data__": {"amount": 5, "currency": "EUR"},
        }
    }
    assert loads(text) == {"price": Money(5, "EUR")}


def test_unserializable_value_names_type_and_place() -> None:
    with pytest.raises(SerializationError) as info:
        dumps({"when": datetime(2024, 1, 1)}, "input of activity 'book_hotel'")
    message = str(info.value)
    assert "datetime.datetime" in message and "input of activity 'book_hotel'" in message
    assert "to_json" in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, DurableError)


def test_circular_value_is_a_serialization_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="custom status"):
        dumps(loop, "custom status")


def test_decoding_errors_are_clear() -> None:
    missing = json.dumps({"__class__": "Gone", "__module__": "no_such_module_x", "__data__": 1})
    with pytest.raises(SerializationError, match="no_such_module_x"):
        loads(missing)
    no_from_json = dumps(NoFromJson(), "x")
    with pytest.raises(SerializationError, match="from_json"):
        loads(no_from_json)
    with pytest.raises(SerializationError, match="not valid JSON"):
        loads("{nope")


def test_unserializable_activity_input_fails_at_the_call() -> None:
    def orch(ctx: Ctx) -> Gen:
        try:
            yield ctx.call_activity("book_hotel", object())
        except ValueError as exc:
            return str(exc)

    result = Harness(orch).start()
    assert result.status is OrchestrationStatus.Completed
    assert "input of activity 'book_hotel'" in (result.output or "")


def test_unserializable_output_fails_the_orchestration() -> None:
    def orch(ctx: Ctx) -> Any:
        return {1, 2}

    result = Harness(orch, name="sets").start()
    assert result.status is OrchestrationStatus.Failed
    assert result.failure_details is not None
    assert result.failure_details.error_type == "SerializationError"
    assert "output of orchestrator 'sets'" in result.failure_details.error_message


def test_custom_classes_flow_through_orchestrations() -> None:
    def orch(ctx: Ctx) -> Gen:
        price = ctx.get_input()
        assert isinstance(price, Money)
        doubled = yield ctx.call_activity("double", price)
        assert isinstance(doubled, Money)
        return doubled

    h = Harness(orch, Money(2, "USD"))
    first = h.start()
    assert loads(first.actions[0].input) == Money(2, "USD")  # type: ignore[union-attr]
    done = h.run(h.completed(0, Money(4, "USD")))
    assert loads(done.output) == Money(4, "USD")


def test_undecodable_result_raises_at_the_yield() -> None:
    def orch(ctx: Ctx) -> Gen:
        try:
            yield ctx.call_activity("a")
        except SerializationError as exc:
            return f"caught: {'no_such_module_x' in str(exc)}"

    h = Harness(orch)
    h.start()
    bad = json.dumps({"__class__": "Gone", "__module__": "no_such_module_x", "__data__": 1})
    from durable.core import events as ev

    result = h.run(ev.task_completed(h.now, task_scheduled_id=0, result=bad))
    assert result.output == '"caught: True"'
