"""Deliberately broken: a syntax error on line 9."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="x")
def x(req: func.HttpRequest) -> func.HttpResponse
    return func.HttpResponse("never")
