"""Deliberately broken: two FunctionApp instances in one module."""

import azure.functions as func

app = func.FunctionApp()
other_app = func.FunctionApp()


@app.route(route="x")
def x(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("x")
