"""An app whose orchestrators make every mistake the determinism lint knows, once each,
for its tests: the lines marked `# finding: DFnnn` are the ones it must report, in this
file and in `flows.py` (a blueprint). Everything else here is replay-safe or is not
orchestrator code (activities, an entity, an HTTP client function), and must stay silent.
"""

from __future__ import annotations

import os
import random as r
import threading
import time
import uuid
from datetime import datetime as dt
from datetime import timedelta
from typing import Any

import azure.functions as func
import requests

import durable as df
from flows import bp

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)


def _jitter() -> float:
    return r.random()  # finding: DF102


def _retry_delay(attempt: int) -> float:
    return attempt * _jitter()


@app.orchestration_trigger(context_name="context")
def clock_and_dice(context: df.DurableOrchestrationContext) -> Any:
    started = dt.utcnow()  # finding: DF101
    safe = context.current_utc_datetime + timedelta(seconds=1)
    order_id = uuid.uuid4()  # finding: DF102
    same_on_replay = context.new_uuid()
    delay = _retry_delay(2)
    yield context.create_timer(safe)
    return [str(started), str(order_id), same_on_replay, delay]


@app.orchestration_trigger(context_name="context")
def io_sleep_threads_env(context: df.DurableOrchestrationContext) -> Any:
    page = requests.get("https://example.com", timeout=5)  # finding: DF103
    time.sleep(1)  # finding: DF104
    worker = threading.Thread(target=print)  # finding: DF105
    region = os.environ.get("REGION")  # finding: DF106
    read = lambda: open("notes.txt").read()  # noqa: E731  # finding: DF103

    def nested() -> str | None:
        return os.getenv("ZONE")  # finding: DF106

    result = yield context.call_activity("fetch_page", region)
    return [page.status_code, worker.name, read, nested(), result]


@app.orchestration_trigger(context_name="context")
def deliberate(context: df.DurableOrchestrationContext) -> Any:
    debug = os.environ.get("DEBUG_ORCHESTRATIONS")  # durable: allow
    stamp = time.time()  # durable: allow DF101
    seeded = r.Random(context.instance_id).random()
    still_reported = uuid.uuid4()  # durable: allow DF101  # finding: DF102
    yield context.call_activity("fetch_page", debug)
    return [stamp, seeded, str(still_reported)]


def registered_in_a_loop(context: df.DurableOrchestrationContext) -> Any:
    """An orchestrator whose registration the source does not show: only a host that
    imported the app (its registry) knows it is one."""
    yield context.call_activity("fetch_page", None)
    return time.monotonic()  # finding (registry): DF101


for _orchestrator in (registered_in_a_loop,):
    app.orchestration_trigger(context_name="context")(_orchestrator)


@app.activity_trigger(input_name="region")
def fetch_page(region: str | None) -> int:
    """Activities are where I/O belongs: nothing here is reported."""
    time.sleep(0.01)
    return requests.get(f"https://example.com/{region or os.environ.get('REGION')}",
                        timeout=5).status_code + int(dt.now().timestamp()) * 0


@app.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext) -> None:
    context.set_state((context.get_state(lambda: 0) or 0) + r.randint(0, 0))


@app.route(route="start/{name}")
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient
                     ) -> func.HttpResponse:
    iid = await client.start_new(req.route_params["name"], f"lint-{uuid.uuid4().hex}")
    return client.create_check_status_response(req, iid)
