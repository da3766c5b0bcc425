"""The benchmark suite's app (bench/run.py): hello-3, fan-out/fan-in, a long sequence and
timer waits. The task hub comes from BENCH_HUB_NAME; `bench_probe` serves the process's
storage request counts at `GET /api/_bench/requests`."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import azure.functions as func
import bench_probe

import durable as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
bench_probe.install(app)

# How many start_new calls one start_many request keeps in flight.
START_CONCURRENCY = 64


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    return f"Hello {name}!"


@app.activity_trigger(input_name="step")
def stamp(step: int) -> float:
    """The wall-clock time this step ran: the long sequence's per-step timestamps."""
    return time.time()


@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext) -> Any:
    out = []
    for city in ("Tokyo", "Seattle", "London"):
        out.append((yield context.call_activity("say_hello", city)))
    return out


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext) -> Any:
    n = int(context.get_input())
    tasks = [context.call_activity("say_hello", str(i)) for i in range(n)]
    results = yield context.task_all(tasks)
    return len(results)


@app.orchestration_trigger(context_name="context")
def long_sequence(context: df.DurableOrchestrationContext) -> Any:
    stamps = []
    for i in range(int(context.get_input())):
        stamps.append((yield context.call_activity("stamp", i)))
    return stamps


@app.orchestration_trigger(context_name="context")
def wait_timer(context: df.DurableOrchestrationContext) -> Any:
    seconds = int(context.get_input())
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    return "fired"


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    payload = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["name"], None, payload)
    return func.HttpResponse(instance_id, status_code=202)


@app.route(route="_bench/start_many/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_many(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Start `count` instances at once, ids `{prefix}{i:06d}`, all with `input`."""
    spec = req.get_json()
    name = req.route_params["name"]
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(i: int) -> str:
        async with gate:
            return await client.start_new(name, f"{spec['prefix']}{i:06d}", spec.get("input"))

    began = time.time()
    ids = await asyncio.gather(*(one(i) for i in range(int(spec["count"]))))
    body = {"ids": ids, "began": began, "ended": time.time()}
    return func.HttpResponse(json.dumps(body), status_code=202, mimetype="application/json")


# --- entities ---------------------------------------------------------------------------


@app.entity_trigger(context_name="context")
def bench_counter(context: df.DurableEntityContext) -> None:
    """A counter that, on reaching `target`, starts the marker orchestration `marker`: the
    bench learns the count is complete from that instance's terminal row."""
    spec = context.get_input() or {}
    value = context.get_state(lambda: 0) + int(spec.get("n", 0))
    context.set_state(value)
    context.set_result(value)
    if spec.get("target") and value == spec["target"]:
        context.start_new_orchestration("bench_marker", None, spec["marker"])


@app.orchestration_trigger(context_name="context")
def bench_marker(context: df.DurableOrchestrationContext) -> Any:
    return "done"


@app.orchestration_trigger(context_name="context")
def entity_ping(context: df.DurableOrchestrationContext) -> Any:
    """`n` call_entity round trips in sequence (the entity adds 0)."""
    entity = df.EntityId("bench_counter", context.instance_id)
    for _ in range(int(context.get_input())):
        yield context.call_entity(entity, "add", {"n": 0})
    return "done"


@app.orchestration_trigger(context_name="context")
def activity_ping(context: df.DurableOrchestrationContext) -> Any:
    """`n` call_activity round trips in sequence: the yardstick of entity_ping."""
    for _ in range(int(context.get_input())):
        yield context.call_activity("say_hello", "x")
    return "done"


@app.route(route="_bench/signal_many", methods=["POST"])
@app.durable_client_input(client_name="client")
async def signal_many(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """`each` signals to each of `entities` counters (`{prefix}{i:06d}`), all at once; each
    counter starts marker `{marker}{i:06d}` when it has them all."""
    spec = req.get_json()
    gate = asyncio.Semaphore(START_CONCURRENCY)
    each = int(spec["each"])

    async def one(i: int) -> None:
        entity = df.EntityId("bench_counter", f"{spec['prefix']}{i:06d}")
        payload = {"n": 1, "target": each, "marker": f"{spec['marker']}{i:06d}"}
        async with gate:
            await client.signal_entity(entity, "add", payload)

    began = time.time()
    await asyncio.gather(*(one(i) for _ in range(each) for i in range(int(spec["entities"]))))
    body = {"began": began, "ended": time.time()}
    return func.HttpResponse(json.dumps(body), status_code=202, mimetype="application/json")
