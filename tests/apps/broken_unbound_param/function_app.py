"""Deliberately broken: a parameter that no binding supplies."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="x")
def x(req: func.HttpRequest, extra: str) -> func.HttpResponse:
    return func.HttpResponse("never")
