"""Blob trigger fixture app: one container, a pattern per parameter type, and a poison case.

Each function reports what it received on the output queue (as JSON) so that tests can see
every run; container and queue names come from app settings so each test run has its own."""

import json

import azure.functions as func

app = func.FunctionApp()
STORAGE = "AzureWebJobsStorage"


@app.blob_trigger(arg_name="blob", path="%IN_CONTAINER%/{name}.txt", connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def on_text_stream(blob: func.InputStream, out: func.Out[str]) -> None:
    out.set(json.dumps({
        "function": "on_text_stream", "name": blob.name,
        "length": blob.length, "uri": blob.uri, "content": blob.read().decode(),
        "etag": (blob.blob_properties or {}).get("ETag"),
    }))


@app.blob_trigger(arg_name="data", path="%IN_CONTAINER%/{folder}/{file}.bin", connection=STORAGE)
@app.blob_output(arg_name="copy", path="%OUT_CONTAINER%/{folder}-{file}.copy",
                 connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def on_bytes(data: bytes, copy: func.Out[bytes], out: func.Out[str]) -> None:
    copy.set(data[::-1])
    out.set(json.dumps({"function": "on_bytes", "type": type(data).__name__,
                        "size": len(data)}))


@app.blob_trigger(arg_name="text", path="%IN_CONTAINER%/{name}.str", connection=STORAGE,
                  data_type="string")
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def on_str(text: str, out: func.Out[str]) -> None:
    out.set(json.dumps({"function": "on_str", "type": type(text).__name__, "text": text}))


@app.blob_trigger(arg_name="copy", path="%OUT_CONTAINER%/{name}.copy", connection=STORAGE)
@app.queue_output(arg_name="out", queue_name="%OUTPUT_QUEUE%", connection=STORAGE)
def on_copy(copy: func.InputStream, out: func.Out[str]) -> None:
    """Triggered by on_bytes' output binding: the in-process write wakes the scan."""
    out.set(json.dumps({"function": "on_copy", "name": copy.name,
                        "content": copy.read().decode()}))


@app.blob_trigger(arg_name="blob", path="%IN_CONTAINER%/fail-{name}", connection=STORAGE)
def always_fails(blob: func.InputStream) -> None:
    raise ValueError(f"cannot process {blob.name}")
