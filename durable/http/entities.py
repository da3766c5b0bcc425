"""The `entities` endpoints of the management API, as Durable Functions has them.

`GET entities/{name}/{key}` answers the state (404 when the entity has none),
`GET entities[/{name}]` lists entities (`fetchState`, `lastOperationTimeFrom`/`To`, `top`,
the continuation token in `x-ms-continuation-token`), `POST entities/{name}/{key}?op=NAME`
signals an operation (a JSON body is its input, any other body a string), and `DELETE` on
the same path signals `delete`. The key `$` is the empty key.
"""

from __future__ import annotations

import azure.functions as func

from durable.client import links
from durable.core.entities import EMPTY_KEY_SYMBOL, EntityId
from durable.errors import ManagementApiError
from durable.http.calls import Call
from durable.http.instances import CONTINUATION_HEADER, DEFAULT_TOP, accepted
from durable.http.request import bad_request

DELETE_OPERATION = "delete"


def _entity(name: str, key: str) -> EntityId:
    try:
        return EntityId(name, "" if key == EMPTY_KEY_SYMBOL else key)
    except ValueError as exc:
        raise bad_request(str(exc), "ArgumentException") from None


async def get_entity(call: Call, name: str, key: str) -> func.HttpResponse:
    """The entity's state, or 404."""
    entity = _entity(name, key)
    found = await call.client.read_entity_state(entity)
    if not found.entity_exists:
        raise ManagementApiError(404, f"Entity {entity} does not exist.")
    return links.json_response(found.entity_state, 200)


async def list_entities(call: Call, name: str | None = None) -> func.HttpResponse:
    """A page of existing entities (of one name, or all)."""
    q = call.req
    if name is not None:
        _entity(name, "k")  # validates the name
    top = q.number("top")
    if top is not None and (top < 1 or top != int(top)):
        raise bad_request(f"Query parameter 'top' must be a positive whole number, got {top:g}.")
    time_from, time_to = q.time("lastOperationTimeFrom"), q.time("lastOperationTimeTo")
    if time_from is not None and time_to is not None and time_from > time_to:
        raise bad_request("'lastOperationTimeFrom' is later than 'lastOperationTimeTo'.")
    page, token = await call.client.list_entities(
        name,
        last_operation_time_from=time_from,
        last_operation_time_to=time_to,
        fetch_state=q.flag("fetchState", False),
        page_size=int(top) if top is not None else DEFAULT_TOP,
        continuation_token=q.headers.get(CONTINUATION_HEADER) or None,
    )
    headers = {CONTINUATION_HEADER: token} if token else {}
    return links.json_response([e.to_json() for e in page], 200, headers)


async def signal_entity(call: Call, name: str, key: str) -> func.HttpResponse:
    """Signal the operation `op` names, with the body as its input."""
    entity = _entity(name, key)
    operation = call.req.text("op")
    if operation is None:
        raise bad_request("Query parameter 'op' must name the operation to signal.")
    await call.client.signal_entity(entity, operation, _input(call))
    return accepted()


async def delete_entity(call: Call, name: str, key: str) -> func.HttpResponse:
    """Signal `delete`, as Durable Functions does for `DELETE entities/{name}/{key}`."""
    await call.client.signal_entity(_entity(name, key), DELETE_OPERATION, _input(call))
    return accepted()


def _input(call: Call) -> object:
    body = call.req.body
    if not body:
        return None
    media = (call.req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media == "application/json":
        return call.req.json_body()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The request body is not UTF-8 text.") from None
