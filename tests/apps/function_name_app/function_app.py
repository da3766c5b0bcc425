"""@app.function_name stacked above the durable triggers, as SDK apps write it."""

import azure.functions as func

import durable as df

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
bp = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.function_name(name="HelloOrchestrator")
@app.orchestration_trigger(context_name="context")
def hello_orchestrator(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    return (yield context.call_activity(say_hello, "Tokyo"))


@app.function_name(name="SayHello")
@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}!"


@bp.function_name(name="Counter")
@bp.entity_trigger(context_name="context")
def counter(context: df.DurableEntityContext) -> None:
    context.set_state(context.get_state(lambda: 0) + 1)


@app.function_name(name="HttpStart")
@app.route(route="start")
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new("HelloOrchestrator")
    return client.create_check_status_response(req, instance_id)


app.register_functions(bp)
