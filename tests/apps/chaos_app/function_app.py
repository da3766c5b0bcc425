"""A durable app for chaos, outage, shutdown and fuzz tests (task hub from TEST_HUB_NAME).

Every orchestrator's output is a pure function of its instance id and input, so a test can
check each instance's output. Activities write one row per execution to the table named by
SIDE_EFFECT_TABLE (when set), keyed by the activity's input, so a test can count how many
activities ran more than once; ACTIVITY_MAX_SECONDS makes `step` take up to that long.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceExistsError, ServiceRequestError, ServiceResponseError
from azure.data.tables import TableClient, TableServiceClient

import durable as df
from durable.errors import StorageUnavailableError
from durable.storage.settings import resolve_connection_string

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

_table: TableClient | None = None
_table_lock = threading.Lock()


def _side_effects() -> TableClient | None:
    global _table
    name = os.environ.get("SIDE_EFFECT_TABLE")
    if not name:
        return None
    with _table_lock:
        if _table is None:
            conn = resolve_connection_string("AzureWebJobsStorage", os.environ)
            service = TableServiceClient.from_connection_string(conn)
            _table = service.create_table_if_not_exists(name)
        return _table


def _record(key: str) -> int | None:
    """Record one execution for `key`; how many there have been (None without a table).

    The side-effect table is the test's instrument, not the app's work: a connection the
    storage emulator resets under load is tried again (the row's key is fixed first, so a
    retried write that had landed counts once), instead of failing the activity."""
    table = _side_effects()
    if table is None:
        return None
    row = {"PartitionKey": key, "RowKey": uuid.uuid4().hex}
    for attempt in range(5):
        try:
            with contextlib.suppress(ResourceExistsError):
                table.create_entity(row)
            rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": key},
                                        select=["RowKey"])
            return sum(1 for _ in rows)
        except (ServiceRequestError, ServiceResponseError):
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


@app.activity_trigger(input_name="key")
def step(key: str) -> str:
    _record(key)
    # Real activities take a while: kills then land mid-activity too.
    time.sleep(random.uniform(0, float(os.environ.get("ACTIVITY_MAX_SECONDS") or 0)))
    return f"{key}!"


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    """Fails its first two executions (counted in the side-effect table), then succeeds."""
    runs = _record(key)
    if runs is None:
        raise RuntimeError("flaky needs SIDE_EFFECT_TABLE to count its executions")
    if runs <= 2:
        raise ConnectionError(f"flaky failure {runs} of {key}")
    return f"{key} ok"


@app.orchestration_trigger(context_name="context")
def chain(context: df.DurableOrchestrationContext) -> Any:
    out = []
    for i in range(3):
        out.append((yield context.call_activity("step", f"{context.instance_id}:{i}")))
    return out


@app.orchestration_trigger(context_name="context")
def fan(context: df.DurableOrchestrationContext) -> Any:
    n = int(context.get_input() or 20)
    keys = [f"{context.instance_id}:{i}" for i in range(n)]
    results = yield context.task_all([context.call_activity("step", k) for k in keys])
    return len(results) if results == [f"{k}!" for k in keys] else results


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext) -> Any:
    children = [
        context.call_sub_orchestrator("chain"),
        context.call_sub_orchestrator("fan", 5),
    ]
    return (yield context.task_all(children))


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext) -> Any:
    options = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=6)
    return (yield context.call_activity_with_retry("flaky", options, f"{context.instance_id}:f"))


@app.orchestration_trigger(context_name="context")
def timer(context: df.DurableOrchestrationContext) -> Any:
    seconds = float(context.get_input() or 2)
    first = yield context.call_activity("step", f"{context.instance_id}:0")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    second = yield context.call_activity("step", f"{context.instance_id}:1")
    return [first, second]


@app.orchestration_trigger(context_name="context")
def event(context: df.DurableOrchestrationContext) -> Any:
    value = yield context.wait_for_external_event("go")
    return (yield context.call_activity("step", f"{context.instance_id}:{value}"))


def _json(body: Any, status: int) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """A starter written the way an app should: bad input is the caller's 400, an outage a
    503, and neither reaches the host as an unhandled exception."""
    try:
        payload = req.get_json() if req.get_body() else None
    except (ValueError, RecursionError) as exc:
        return _json({"error": f"the body is not JSON: {exc}"}, 400)
    try:
        instance_id = await client.start_new(
            req.route_params["name"], req.params.get("id"), payload
        )
    except df.InstanceAlreadyExistsError as exc:
        return _json({"error": str(exc)}, 409)
    except (ValueError, TypeError) as exc:
        return _json({"error": str(exc)}, 400)
    except StorageUnavailableError as exc:
        return _json({"error": str(exc)}, 503)
    return client.create_check_status_response(req, instance_id)


@app.entity_trigger(context_name="context")
def chaos_counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    context.set_state(value)
    context.set_result(value)


@app.orchestration_trigger(context_name="context")
def counting(context: df.DurableOrchestrationContext) -> Any:
    """Signals its own counter n times, then calls it: in-order delivery makes the result
    n + 1 whatever hosts die meanwhile."""
    entity = df.EntityId("chaos_counter", context.instance_id)
    for _ in range(int(context.get_input() or 5)):
        context.signal_entity(entity, "add", 1)
    return (yield context.call_entity(entity, "add", 1))
