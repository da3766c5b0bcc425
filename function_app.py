"""Conference booking: the sample app of `durable`, after the seed article's example.

To go to a conference we book a ticket, a flight and a hotel. The orchestrators below are
the article's workflows, one by one:

- `sequential_workflow`: conference, then flight, then hotel; each step feeds the next;
- `book_trip`: the same with retries (exponential backoff) on the flight, a train as the
  fallback when no flight can be had, and compensation (cancel the conference ticket) when
  the train fails too;
- `combined_workflow`: two trips one after the other, each a `book_trip` sub-orchestration;
- `parallel_workflow`: two trips at the same time (fan-out), then one expense report over
  both results (fan-in);
- `email_workflow`: one e-mail per recipient, all sent in parallel, all results checked;
- `approval_workflow`: ask for approval, wait for the `approval` event or a timeout,
  then book (or not);
- `trip_monitor`: an eternal loop that checks a trip on a durable timer until it is booked.

Start any of them with `POST /api/orchestrators/{name}[/{instance id}]` and a JSON body; see
what the activities did with `GET /api/bookings?trip={trip id}`. The pretend services the
activities call live in `sample/`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.functions as func

import durable as df
from sample import bookings, travel

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

# What an orchestrator is: a generator that yields tasks and returns its output.
Orchestration = Generator[df.Task[Any], Any, Any]

# Retry a failing flight booking twice: after 1 s, then after 2 s (backoff coefficient 2).
FLIGHT_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
FLIGHT_RETRY.backoff_coefficient = 2.0


# --- HTTP functions ---------------------------------------------------------------------


@app.route(route="orchestrators/{functionName}/{instanceId?}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Start an orchestrator with the request body (JSON) as its input; answer with the
    links to check on it (202, `Location` = the status URL)."""
    name = req.route_params["functionName"]
    try:
        payload = req.get_json() if req.get_body() else None
    except ValueError:
        return _json({"error": "The request body is not valid JSON."}, 400)
    try:
        instance_id = await client.start_new(name, req.route_params.get("instanceId"), payload)
    except df.InstanceAlreadyExistsError as exc:
        return _json({"error": str(exc)}, 409)
    except ValueError as exc:  # no such orchestrator, or an invalid instance id
        return _json({"error": str(exc)}, 400)
    logging.info("Started orchestration '%s' with id '%s'", name, instance_id)
    return client.create_check_status_response(req, instance_id)


@app.route(route="bookings", methods=["GET"])
def list_bookings(req: func.HttpRequest) -> func.HttpResponse:
    """The Bookings table as JSON; `?trip=ID` keeps trip ID and its sub-trips (ID-1, ...)."""
    return _json(bookings.rows(req.params.get("trip")), 200)


def _json(body: Any, status_code: int) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body, indent=2), status_code=status_code, mimetype="application/json"
    )


# --- Orchestrators ----------------------------------------------------------------------
# Orchestrators are replayed from their history, so they must be deterministic: no clock
# (use context.current_utc_datetime), no random ids, no I/O. Activities do the work.


@app.orchestration_trigger(context_name="context")
def sequential_workflow(context: df.DurableOrchestrationContext) -> Orchestration:
    """Conference -> flight -> hotel, in sequence."""
    request = _trip_request(context)
    ticket = yield context.call_activity("book_conference", request)
    flight = yield context.call_activity("book_flight", travel.travel_request(request, ticket))
    hotel = yield context.call_activity("book_hotel", _hotel_request(flight))
    return _booked(request, ticket, flight, hotel)


@app.orchestration_trigger(context_name="context")
def book_trip(context: df.DurableOrchestrationContext) -> Orchestration:
    """One trip, with retries, a fallback and compensation."""
    request = _trip_request(context)
    ticket = yield context.call_activity("book_conference", request)
    route = travel.travel_request(request, ticket)
    try:
        transport = yield context.call_activity_with_retry("book_flight", FLIGHT_RETRY, route)
    except Exception as no_flight:  # raised at the yield once the retries are used up
        context.set_custom_status({"stage": "no flight, trying the train", "error": str(no_flight)})
        try:
            transport = yield context.call_activity("book_train", route)
        except Exception as no_train:
            refund = yield context.call_activity("cancel_conference", ticket)
            return {
                "trip_id": request["trip_id"],
                "status": "cancelled",
                "reason": f"{no_flight} {no_train}",
                "conference": ticket,
                "refund": refund["refund"],
                "total": 0,
            }
    hotel = yield context.call_activity("book_hotel", _hotel_request(transport))
    return _booked(request, ticket, transport, hotel)


@app.orchestration_trigger(context_name="context")
def combined_workflow(context: df.DurableOrchestrationContext) -> Orchestration:
    """Several trips one after the other, each a `book_trip` sub-orchestration."""
    request = _trip_request(context)
    trips = []
    for trip in _sub_trips(request):
        trips.append((yield context.call_sub_orchestrator("book_trip", trip)))
    return {"trip_id": request["trip_id"], "trips": trips}


@app.orchestration_trigger(context_name="context")
def parallel_workflow(context: df.DurableOrchestrationContext) -> Orchestration:
    """Several trips at once (fan-out), then one expense report over all of them (fan-in)."""
    request = _trip_request(context)
    booking = [context.call_sub_orchestrator("book_trip", trip) for trip in _sub_trips(request)]
    trips = yield context.task_all(booking)
    report = {"trip_id": request["trip_id"], "trips": trips}
    expenses = yield context.call_activity("report_expenses", report)
    return {"trip_id": request["trip_id"], "trips": trips, "expenses": expenses}


@app.orchestration_trigger(context_name="context")
def email_workflow(context: df.DurableOrchestrationContext) -> Orchestration:
    """An e-mail to every recipient, sent in parallel; then check that all went out."""
    request = _trip_request(context)
    recipients: list[str] = list(request.get("recipients", []))
    subject = request.get("subject", "Your conference trip")
    sending = [
        context.call_activity(
            "send_email", {"trip_id": request["trip_id"], "to": to, "subject": subject}
        )
        for to in recipients
    ]
    delivered: list[bool] = yield context.task_all(sending)
    bounced = [to for to, ok in zip(recipients, delivered, strict=True) if not ok]
    return {
        "trip_id": request["trip_id"],
        "sent": len(recipients) - len(bounced),
        "bounced": bounced,
        "all_delivered": not bounced,
    }


@app.orchestration_trigger(context_name="context")
def approval_workflow(context: df.DurableOrchestrationContext) -> Orchestration:
    """Ask an approver by e-mail, then wait for the `approval` event, at most
    `timeout_seconds` (default one hour). Approved: book the trip (`book_trip`)."""
    request = _trip_request(context)
    trip_id = request["trip_id"]
    approver = request.get("approver", "manager@example.com")
    subject = f"Please approve trip {trip_id} to {request['conference']}"
    email = {"trip_id": trip_id, "to": approver, "subject": subject}
    yield context.call_activity("send_email", email)

    context.set_custom_status({"stage": "waiting for approval", "approver": approver})
    deadline = context.current_utc_datetime + timedelta(
        seconds=float(request.get("timeout_seconds", 3600))
    )
    timeout = context.create_timer(deadline)
    approval = context.wait_for_external_event("approval")
    winner = yield context.task_any([approval, timeout])

    if winner is not approval:
        context.set_custom_status({"stage": "timed out"})
        return {"trip_id": trip_id, "status": "timed out"}
    timeout.cancel()  # the event won: the orchestration need not wait for the timer
    decision = approval.result
    approved = decision.get("approved") if isinstance(decision, dict) else bool(decision)
    if not approved:
        context.set_custom_status({"stage": "rejected"})
        return {"trip_id": trip_id, "status": "rejected", "decision": decision}
    context.set_custom_status({"stage": "approved, booking"})
    trip = yield context.call_sub_orchestrator("book_trip", request)
    context.set_custom_status({"stage": "done"})
    return {"trip_id": trip_id, "status": "approved", "decision": decision, "trip": trip}


@app.orchestration_trigger(context_name="context")
def trip_monitor(context: df.DurableOrchestrationContext) -> Orchestration:
    """Check a trip every `interval_seconds` until it has `expected` bookings (or
    `max_checks` checks were made). Each check is a fresh execution (continue_as_new), so
    the history stays short however long the monitor runs."""
    state = context.get_input() or {}
    if not state.get("trip_id"):
        raise ValueError("trip_monitor needs the trip_id of the trip to watch")
    check = int(state.get("check", 1))
    expected = int(state.get("expected", 3))
    booked = yield context.call_activity("count_bookings", state["trip_id"])
    progress = {"trip_id": state["trip_id"], "check": check, "bookings": booked,
                "expected": expected}
    context.set_custom_status(progress)
    if booked >= expected:
        return {**progress, "status": "complete"}
    if check >= int(state.get("max_checks", 100)):
        return {**progress, "status": "gave up"}
    interval = timedelta(seconds=float(state.get("interval_seconds", 5)))
    yield context.create_timer(context.current_utc_datetime + interval)
    context.continue_as_new({**state, "check": check + 1})
    return None


def _trip_request(context: df.DurableOrchestrationContext) -> dict[str, Any]:
    """The orchestrator's input with defaults; the trip id defaults to the instance id."""
    request: dict[str, Any] = dict(context.get_input() or {})
    request.setdefault("trip_id", context.instance_id)
    request.setdefault("conference", "ServerlessDays Amsterdam")
    request.setdefault("from", "London")
    return request


def _sub_trips(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The trips of a combined request: `trips` (default Amsterdam and Hamburg), each with
    the request's other fields and trip id `{trip_id}-1`, `{trip_id}-2`, ..."""
    common = {k: v for k, v in request.items() if k not in ("trips", "conference")}
    trips = request.get("trips") or [
        {"conference": "ServerlessDays Amsterdam"},
        {"conference": "ServerlessDays Hamburg"},
    ]
    return [
        {**common, **trip, "trip_id": f"{request['trip_id']}-{n}"}
        for n, trip in enumerate(trips, start=1)
    ]


def _hotel_request(travel_booking: dict[str, Any]) -> dict[str, Any]:
    return {
        "trip_id": travel_booking["trip_id"],
        "city": travel_booking["to"],
        "check_in": travel_booking["outbound"],
        "check_out": travel_booking["return"],
    }


def _booked(
    request: dict[str, Any], ticket: dict[str, Any], transport: dict[str, Any],
    hotel: dict[str, Any],
) -> dict[str, Any]:
    return {
        "trip_id": request["trip_id"],
        "status": "booked",
        "conference": ticket,
        "travel": transport,
        "hotel": hotel,
        "total": ticket["price"] + transport["price"] + hotel["price"],
    }


# --- Activities -------------------------------------------------------------------------
# Ordinary functions: they may do I/O, take time and fail. Each runs at least once.


@app.activity_trigger(input_name="request")
def book_conference(request: dict[str, Any]) -> dict[str, Any]:
    return travel.book_conference(request)


@app.activity_trigger(input_name="request")
def book_flight(request: dict[str, Any]) -> dict[str, Any]:
    return travel.book_flight(request)


@app.activity_trigger(input_name="request")
def book_train(request: dict[str, Any]) -> dict[str, Any]:
    return travel.book_train(request)


@app.activity_trigger(input_name="request")
def book_hotel(request: dict[str, Any]) -> dict[str, Any]:
    return travel.book_hotel(request)


@app.activity_trigger(input_name="ticket")
def cancel_conference(ticket: dict[str, Any]) -> dict[str, Any]:
    return travel.cancel_conference(ticket)


@app.activity_trigger(input_name="report")
def report_expenses(report: dict[str, Any]) -> dict[str, Any]:
    return travel.report_expenses(report)


@app.activity_trigger(input_name="message")
def send_email(message: dict[str, Any]) -> bool:
    return travel.send_email(message)


@app.activity_trigger(input_name="trip_id")
def count_bookings(trip_id: str) -> int:
    return travel.count_bookings(trip_id)
