"""Deliberately broken: an unknown route constraint."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="items/{id:integer}")
def item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("never")
