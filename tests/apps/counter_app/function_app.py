# The counter entity of the Durable Functions documentation (Python, v2 programming model),
# with its orchestrator and client functions, unchanged but for the import.
import azure.functions as func
import durable as df

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


# Entity function called counter
@myApp.entity_trigger(context_name="context")
def Counter(context):
    current_value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        amount = context.get_input()
        current_value += amount
    elif operation == "reset":
        current_value = 0
    elif operation == "get":
        pass

    context.set_state(current_value)
    context.set_result(current_value)


@myApp.orchestration_trigger(context_name="context")
def orchestrator(context: df.DurableOrchestrationContext):
    entityId = df.EntityId("Counter", "myCounter")
    context.signal_entity(entityId, "add", 3)
    state = yield context.call_entity(entityId, "get")
    return state


@myApp.route(route="entity/{entityKey}")
@myApp.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client):
    entityId = df.EntityId("Counter", req.route_params["entityKey"])
    await client.signal_entity(entityId, "add", 1)
    return func.HttpResponse("Entity signaled")


@myApp.route(route="entity/{entityKey}/state")
@myApp.durable_client_input(client_name="client")
async def http_read(req: func.HttpRequest, client):
    entityId = df.EntityId("Counter", req.route_params["entityKey"])
    entity_state_result = await client.read_entity_state(entityId)
    entity_state = "No state found"
    if entity_state_result.entity_exists:
        entity_state = str(entity_state_result.entity_state)
    return func.HttpResponse(entity_state)


@myApp.route(route="orchestrators/{functionName}")
@myApp.durable_client_input(client_name="client")
async def http_start_orchestration(req: func.HttpRequest, client):
    instance_id = await client.start_new(req.route_params["functionName"])
    return client.create_check_status_response(req, instance_id)
