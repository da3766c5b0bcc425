"""Blob trigger latency bench app (bench/blobscan.py): each run reports when it started."""

import json
import time

import azure.functions as func

app = func.FunctionApp()


@app.blob_trigger(arg_name="blob", path="%BENCH_CONTAINER%/{name}",
                  connection="AzureWebJobsStorage")
@app.queue_output(arg_name="out", queue_name="%BENCH_QUEUE%", connection="AzureWebJobsStorage")
def on_blob(blob: func.InputStream, out: func.Out[str]) -> None:
    out.set(json.dumps({"name": blob.name, "invoked": time.time()}))
