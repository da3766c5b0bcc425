"""A valid app next to a host.json with an invalid value."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="x")
def x(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("x")
