"""Deliberately broken: a Blueprint but no FunctionApp."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="x")
def x(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("x")
