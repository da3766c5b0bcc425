"""Queue fixture app: triggers, output bindings, a poison case and in-process sends.

Queue names come from app settings (%NAME%) so that each test run can use its own."""

import json
import logging
import os

import azure.functions as func
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
STORAGE = "AzureWebJobsStorage"


@app.queue_trigger(arg_name="msg", queue_name="%INPUT_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def process(msg: func.QueueMessage, out: func.Out[str]) -> None:
    logging.info("processing %s", msg.id)
    out.set(json.dumps({
        "function": "process",
        "body": msg.get_body().decode(),
        "id": msg.id,
        "dequeue_count": msg.dequeue_count,
        "has_pop_receipt": bool(msg.pop_receipt),
        "inserted": msg.insertion_time.isoformat() if msg.insertion_time else None,
        "expires": msg.expiration_time.isoformat() if msg.expiration_time else None,
    }))


@app.queue_trigger(arg_name="msg", queue_name="%ASYNC_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="$return", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
async def process_async(msg: func.QueueMessage) -> str:
    return json.dumps({"function": "process_async", "doubled": msg.get_json()["n"] * 2})


@app.queue_trigger(arg_name="msg", queue_name="%FANOUT_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def fan_out(msg: func.QueueMessage, out: func.Out[list[str]]) -> None:
    prefix = msg.get_body().decode()
    out.set([json.dumps({"function": "fan_out", "part": f"{prefix}-{i}"}) for i in range(3)])


@app.queue_trigger(arg_name="msg", queue_name="%POISON_QUEUE%", connection=STORAGE)
def always_fails(msg: func.QueueMessage) -> None:
    raise ValueError(f"cannot handle {msg.get_body().decode()}")


@app.route(route="enqueue", methods=["POST"])
def enqueue(req: func.HttpRequest) -> func.HttpResponse:
    """Sends with the plain storage SDK from inside the host process."""
    client = QueueClient.from_connection_string(
        os.environ[STORAGE], os.environ["WAKE_QUEUE"],
        message_encode_policy=TextBase64EncodePolicy(),
    )
    delay = int(req.params.get("delay", "0"))
    client.send_message(req.get_body().decode(), visibility_timeout=delay or None)
    return func.HttpResponse("queued", status_code=202)


@app.queue_trigger(arg_name="msg", queue_name="%WAKE_QUEUE%", connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def on_wake(msg: func.QueueMessage, out: func.Out[str]) -> None:
    out.set(json.dumps({"function": "on_wake", "body": msg.get_body().decode()}))
