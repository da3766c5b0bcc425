"""Deliberately broken: two functions with the same name."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="one")
def handler(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("one")


@app.function_name("handler")
@app.route(route="two")
def another(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("two")
