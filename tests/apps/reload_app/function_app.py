"""Reload fixture app: the tests copy this folder and edit VALUE while the host runs."""

import os
import time

import azure.functions as func

from helpers import SUFFIX

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
VALUE = "one"


@app.route(route="value", methods=["GET"])
def value(req: func.HttpRequest) -> str:
    return f"{VALUE}{SUFFIX} {os.environ.get('GREETING', '')}".strip()


@app.route(route="other", methods=["GET"])
def other(req: func.HttpRequest) -> str:
    return "other"


@app.route(route="slow", methods=["GET"])
def slow(req: func.HttpRequest) -> str:
    time.sleep(float(req.params.get("seconds", "2")))
    return f"slow {VALUE}"
