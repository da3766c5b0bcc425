"""A valid app next to a host.json with a JSON syntax error."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="x")
def x(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("x")
