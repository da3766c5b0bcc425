"""Blob and table bindings, binding expressions, SDK types, retry policies and a binding
this host cannot serve. Names come from app settings so that each test run has its own."""

import json
import logging

import azure.functions as func
import azurefunctions.extensions.bindings.blob as blob

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
STORAGE = "AzureWebJobsStorage"
ATTEMPTS = {"flaky_timer": 0}


def respond(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


@app.route(route="blobs/{name}", methods=["GET"])
@app.blob_input(arg_name="content", path="%DATA_CONTAINER%/{name}", connection=STORAGE)
def read_blob(req: func.HttpRequest, content: str) -> func.HttpResponse:
    return respond({"missing": True} if content is None else {"content": content})


@app.route(route="blobs/{name}", methods=["PUT"])
@app.blob_output(arg_name="copy", path="%DATA_CONTAINER%/{name}", connection=STORAGE)
@app.blob_output(arg_name="archive", connection=STORAGE,
                 path="%DATA_CONTAINER%/archive/{DateTime:yyyy}/{rand-guid}.txt")
def write_blob(req: func.HttpRequest, copy: func.Out[bytes],
               archive: func.Out[str]) -> func.HttpResponse:
    copy.set(req.get_body())
    archive.set(req.get_body().decode())
    if req.params.get("fail"):
        raise RuntimeError("failing after setting the outputs")
    return func.HttpResponse("written", status_code=201)


@app.route(route="orders", methods=["POST"])
@app.blob_output(arg_name="order", path="%DATA_CONTAINER%/orders/{customer}/{id}.json",
                 connection=STORAGE)
def save_order(req: func.HttpRequest, order: func.Out[str]) -> str:
    order.set(req.get_body().decode())
    return "saved"


@app.route(route="query-blob", methods=["GET"])
@app.blob_input(arg_name="content", path="%DATA_CONTAINER%/{Query.file}", connection=STORAGE)
def query_blob(req: func.HttpRequest, content: func.InputStream) -> func.HttpResponse:
    if content is None:
        return respond({"missing": True}, 404)
    return respond({"name": content.name, "length": content.length,
                    "content": content.read().decode()})


@app.queue_trigger(arg_name="msg", queue_name="%NAME_QUEUE%", connection=STORAGE)
@app.blob_input(arg_name="data", path="%DATA_CONTAINER%/{queueTrigger}", connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def blob_named_by_message(msg: func.QueueMessage, data: bytes, out: func.Out[str]) -> None:
    out.set(json.dumps({"function": "blob_named_by_message", "message": msg.get_body().decode(),
                        "data": None if data is None else data.decode()}))


@app.queue_trigger(arg_name="msg", queue_name="%JSON_QUEUE%", connection=STORAGE)
@app.blob_input(arg_name="data", path="%DATA_CONTAINER%/{folder}/{file}", connection=STORAGE)
@app.blob_output(arg_name="result", path="%DATA_CONTAINER%/{folder}/{file}.upper",
                 connection=STORAGE)
def blob_from_json_message(msg: func.QueueMessage, data: str, result: func.Out[str]) -> None:
    result.set(data.upper())


@app.route(route="rows/{pk}/{rk}", methods=["GET"])
@app.table_input(arg_name="row", connection=STORAGE, table_name="%TABLE_NAME%",
                 partition_key="{pk}", row_key="{rk}")
def read_row(req: func.HttpRequest, row: str) -> func.HttpResponse:
    if row is None:
        return respond({"missing": True}, 404)
    return respond({"type": type(row).__name__, "row": json.loads(row)})


@app.route(route="rows/{pk}", methods=["GET"])
@app.table_input(arg_name="rows", connection=STORAGE, table_name="%TABLE_NAME%",
                 partition_key="{pk}", filter="Score ge {Query.min}", take=2)
def read_rows(req: func.HttpRequest, rows: str) -> func.HttpResponse:
    return respond(json.loads(rows))


@app.route(route="rows/{pk}", methods=["POST"])
@app.table_output(arg_name="rows", connection=STORAGE, table_name="%TABLE_NAME%",
                  partition_key="{pk}")
def write_rows(req: func.HttpRequest, rows: func.Out[str]) -> func.HttpResponse:
    rows.set(req.get_body().decode())
    return func.HttpResponse("stored", status_code=201)


@app.route(route="sdk/{name}", methods=["GET"])
@app.blob_input(arg_name="client", path="%DATA_CONTAINER%/{name}", connection=STORAGE)
@app.blob_input(arg_name="container", path="%DATA_CONTAINER%/{name}", connection=STORAGE)
@app.blob_input(arg_name="stream", path="%DATA_CONTAINER%/{name}", connection=STORAGE)
def sdk_types(req: func.HttpRequest, client: blob.BlobClient, container: blob.ContainerClient,
              stream: blob.StorageStreamDownloader) -> func.HttpResponse:
    return respond({
        "client": type(client).__name__,
        "content": client.download_blob().readall().decode(),
        "container": sorted(b.name for b in container.list_blobs()),
        "stream": stream.readall().decode(),
    })


@app.retry(strategy="fixed_delay", max_retry_count="2", delay_interval="00:00:01")
@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True)
@app.queue_output(arg_name="out", queue_name="%RETRY_QUEUE%", connection=STORAGE)
def flaky_timer(timer: func.TimerRequest, context: func.Context, out: func.Out[str]) -> None:
    ATTEMPTS["flaky_timer"] += 1
    retry = context.retry_context
    if ATTEMPTS["flaky_timer"] < 3:
        raise RuntimeError(f"attempt {ATTEMPTS['flaky_timer']} fails")
    out.set(json.dumps({"attempts": ATTEMPTS["flaky_timer"], "retry_count": retry.retry_count,
                        "max_retry_count": retry.max_retry_count}))


@app.retry(strategy="exponential_backoff", max_retry_count="3",
           minimum_interval="00:00:01", maximum_interval="00:00:05")
@app.queue_trigger(arg_name="msg", queue_name="%RETRY_QUEUE%-in", connection=STORAGE)
def queue_with_retry(msg: func.QueueMessage) -> None:
    logging.info("not retried by the host: %s", msg.get_body())


@app.route(route="cosmos", methods=["POST"])
@app.cosmos_db_output(arg_name="doc", connection="CosmosConnection", database_name="db",
                      container_name="items")
def to_cosmos(req: func.HttpRequest, doc: func.Out[func.Document]) -> str:
    doc.set(func.Document.from_json(req.get_body().decode()))
    return "sent"
