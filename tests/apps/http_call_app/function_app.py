# An orchestration that calls a long-running HTTP API (the asynchronous 202 pattern), where
# the API is an HTTP function of this same app. host.json sets the polling interval.
import json

import azure.functions as func
import durable as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
HITS: dict[str, int] = {}


@app.orchestration_trigger(context_name="context")
def report(context: df.DurableOrchestrationContext):
    base = context.get_input()
    response = yield context.call_http("POST", f"{base}/api/jobs", {"size": 3})
    return {"status": response.status_code, "content": response.content}


@app.route(route="jobs", methods=["POST"])
def start_job(req: func.HttpRequest) -> func.HttpResponse:
    HITS["start"] = HITS.get("start", 0) + 1
    # No Retry-After: the orchestration waits host.json's polling interval.
    return func.HttpResponse(status_code=202, headers={"Location": "/api/jobs/status"})


@app.route(route="jobs/status", methods=["GET"])
def job_status(req: func.HttpRequest) -> func.HttpResponse:
    HITS["status"] = HITS.get("status", 0) + 1
    if HITS["status"] < 3:
        return func.HttpResponse(status_code=202, headers={"Location": "/api/jobs/status"})
    return func.HttpResponse("report ready")


@app.route(route="hits", methods=["GET"])
def hits(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(HITS), mimetype="application/json")


@app.route(route="start", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client):
    base = req.url.split("/api/")[0]
    instance_id = await client.start_new("report", client_input=base)
    return client.create_check_status_response(req, instance_id)
