"""HTTP fixture app: routes, constraints, methods, conversions, sync and async handlers."""

import asyncio
import json
import logging
import os
import threading
import time

import azure.functions as func

from blueprint import bp

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(bp)


def _json(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


@app.route(route="hello", methods=["GET", "POST"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    logging.info("hello was called")
    name = req.params.get("name") or "world"
    return func.HttpResponse(f"{os.environ['GREETING']}, {name}!")


@app.route(route="plain")
def plain(req: func.HttpRequest) -> str:
    return "plain text"


@app.route(route="returns-dict")
def returns_dict(req: func.HttpRequest) -> func.HttpResponse:
    return {"not": "allowed"}  # type: ignore[return-value]


@app.route(route="echo", methods=["POST", "PUT"])
async def echo(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    return _json({
        "method": req.method,
        "url": req.url,
        "params": dict(req.params),
        "header": req.headers.get("x-test-header"),
        "json": req.get_json() if req.get_body() else None,
        "thread": threading.current_thread().name,
    })


@app.route(route="sync-thread")
def sync_thread(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"thread": threading.current_thread().name})


@app.route(route="status/{code:int}")
def status(req: func.HttpRequest) -> func.HttpResponse:
    code = int(req.route_params["code"])
    return func.HttpResponse(
        "custom", status_code=code, headers={"X-Custom": "yes"}, mimetype="text/html"
    )


@app.route(route="items/{id:int}", methods=["GET"])
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"kind": "int", "route": dict(req.route_params)})


@app.route(route="items/{name:alpha}", methods=["GET"])
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"kind": "alpha", "route": dict(req.route_params)})


@app.route(route="items/{id:int}", methods=["DELETE"])
def delete_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204)


@app.route(route="typed/{g:guid}/{b:bool}/{n:long}/{d:double}/{when:datetime}")
def typed(req: func.HttpRequest) -> func.HttpResponse:
    return _json(dict(req.route_params))


@app.route(route="optional/{category}/{page:int?}")
def optional(req: func.HttpRequest) -> func.HttpResponse:
    return _json(dict(req.route_params))


@app.route(route="files/{*path}")
def files(req: func.HttpRequest) -> func.HttpResponse:
    return _json(dict(req.route_params))


@app.route(route="fails")
def fails(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("this function always fails")


@app.function_name("renamed_function")
@app.route(route="renamed")
async def some_python_name(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("renamed")


@app.route(route="runtime/webhooks/sample/{id}", methods=["GET"])
def webhook(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"id": req.route_params["id"]})


@app.route(route="slow")
async def slow(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(float(req.params.get("seconds", "1")))
    return func.HttpResponse("finished")


@app.route(route="slow-sync")
def slow_sync(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(float(req.params.get("seconds", "1")))
    return func.HttpResponse("finished sync")
