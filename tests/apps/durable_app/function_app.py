"""A durable app for crash, multi-host and chaos tests: the task hub comes from TEST_HUB_NAME."""

from __future__ import annotations

import os
from typing import Any

import azure.functions as func
from azure.data.tables import TableServiceClient

import durable as df
from durable.storage.settings import resolve_connection_string

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _side_effects() -> Any:
    """Activities record each execution here, so tests can count at-least-once re-runs."""
    table = os.environ.get("SIDE_EFFECT_TABLE")
    if not table:
        return None
    conn = resolve_connection_string("AzureWebJobsStorage", os.environ)
    service = TableServiceClient.from_connection_string(conn)
    return service.create_table_if_not_exists(table)


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    table = _side_effects()
    if table is not None:
        import uuid

        table.create_entity({"PartitionKey": name, "RowKey": uuid.uuid4().hex})
    return f"Hello {name}!"


@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext) -> Any:
    prefix = context.get_input() or ""
    out = []
    for city in ("Tokyo", "Seattle", "London"):
        out.append((yield context.call_activity("say_hello", f"{prefix}{city}")))
    return out


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext) -> Any:
    spec = context.get_input()
    tasks = [context.call_activity("say_hello", f"{spec['prefix']}{i}") for i in range(spec["n"])]
    results = yield context.task_all(tasks)
    return len(results)


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext) -> Any:
    prefix = context.get_input() or ""
    first = yield context.call_sub_orchestrator("hello_sequence", f"{prefix}a-")
    second = yield context.call_sub_orchestrator("fan_out", {"prefix": f"{prefix}b-", "n": 5})
    return [first, second]


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    payload = req.get_json() if body else None
    instance_id = await client.start_new(req.route_params["name"], None, payload)
    return func.HttpResponse(instance_id, status_code=202)


@app.entity_trigger(context_name="context")
def counter_entity(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    context.set_state(value)
    context.set_result(value)


@app.orchestration_trigger(context_name="context")
def add_to_counter(context: df.DurableOrchestrationContext) -> Any:
    spec = context.get_input()
    entity = df.EntityId("counter_entity", spec["key"])
    for _ in range(spec["signals"]):
        context.signal_entity(entity, "add", 1)
    return (yield context.call_entity(entity, "add", 1))


FLIP_FLOP_RUNS = [0]


@app.orchestration_trigger(context_name="context")
def flip_flop(context: df.DurableOrchestrationContext) -> Any:
    """Calls say_hello on its first run and say_hello_again when it runs again: the
    module-level counter stands for any non-deterministic code."""
    FLIP_FLOP_RUNS[0] += 1
    first = "say_hello" if FLIP_FLOP_RUNS[0] == 1 else "say_hello_again"
    a = yield context.call_activity(first, "a")
    b = yield context.call_activity("say_hello", "b")
    return [a, b]


@app.activity_trigger(input_name="name")
def say_hello_again(name: str) -> str:
    return f"Hello again {name}!"
