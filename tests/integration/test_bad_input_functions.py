"""Misbehaving user functions through the runtime (queues and tables on Azurite): each
instance ends Failed with a readable message, and no dispatcher invocation fails (a failing
invocation would be retried until the message lands in a poison queue, leaving the
instance Running forever)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import durable as df
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from tests.support.hubs import running_hub, wait_for_status

bp = df.Blueprint()


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


@bp.activity_trigger(input_name="what")
def bad_input_unprintable_activity(what: str) -> str:
    raise UnprintableError()


@bp.activity_trigger(input_name="what")
def bad_input_exiting_activity(what: str) -> str:
    sys.exit(f"activity gave up on {what}")


@bp.activity_trigger(input_name="what")
def bad_input_unserializable_result(what: str) -> Any:
    return {what: object()}


@bp.orchestration_trigger(context_name="context")
def bad_input_calls(context: df.DurableOrchestrationContext) -> Any:
    return (yield context.call_activity(context.get_input(), "x"))


@bp.orchestration_trigger(context_name="context")
def bad_input_raises_unprintable(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("say_hello", "x")
    raise UnprintableError()


@bp.orchestration_trigger(context_name="context")
def bad_input_returns_object(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("say_hello", "x")
    return object()


@bp.orchestration_trigger(context_name="context")
def bad_input_yields_text(context: df.DurableOrchestrationContext) -> Any:
    yield "not a task"


@bp.orchestration_trigger(context_name="context")
def bad_input_exits(context: df.DurableOrchestrationContext) -> Any:
    yield context.call_activity("say_hello", "x")
    sys.exit("orchestrator gave up")


CASES = [
    ("bad_input_calls", "bad_input_unprintable_activity",
     "str() of the UnprintableError failed"),
    ("bad_input_calls", "bad_input_exiting_activity", "activity gave up on x"),
    ("bad_input_calls", "bad_input_unserializable_result",
     "Cannot serialize a value of type object"),
    ("bad_input_raises_unprintable", None, "str() of the UnprintableError failed"),
    ("bad_input_returns_object", None, "Cannot serialize a value of type object"),
    ("bad_input_yields_text", None, "yielded str 'not a task'"),
    ("bad_input_exits", None, "orchestrator gave up"),
]


@pytest.mark.parametrize(("orchestrator", "payload", "phrase"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
async def test_instance_fails_readably_and_no_invocation_fails(
    connection_string: str, hub_name: str, orchestrator: str, payload: str | None, phrase: str
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        iid = await r.client.start_new(orchestrator, client_input=payload)
        status = await wait_for_status(r.client, iid)
        assert status.runtime_status is S.Failed, status.output
        assert isinstance(status.output, str) and phrase in status.output, status.output
        assert r.pump.errors == []
