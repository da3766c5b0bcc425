"""Pretend travel services: a conference box office, an airline, a railway, a hotel chain,
a mail server and an accounting system.

They are what the sample's activities call. Each one records its effect as a row in the
Bookings table (`sample.bookings`), so every step of a workflow can be seen. The airline
fails on request, to show retries and fallbacks:

- `"flight_failures": n` in a trip request makes the first n booking attempts of that trip
  fail with `FlightServiceUnavailableError` (a transient error: a retry may succeed);
- `"flight": "impossible"` makes every attempt fail with `NoRouteError`;
- `"train": "impossible"` does the same for the railway.

Booking references are derived from the trip id, so a booking made twice (an activity runs
at least once) is the same booking.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sample import bookings

FLIGHT_PRICE = 180
TRAIN_PRICE = 95
HOTEL_PRICE_PER_NIGHT = 120
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Kinds of rows that are bookings (as opposed to attempts, e-mails and reports).
BOOKING_KINDS = ("conference", "flight", "train", "hotel")


@dataclass(frozen=True)
class Conference:
    city: str
    starts: date
    ends: date
    price: int


CONFERENCES = {
    "ServerlessDays Amsterdam": Conference("Amsterdam", date(2026, 3, 26), date(2026, 3, 27), 299),
    "ServerlessDays Hamburg": Conference("Hamburg", date(2026, 5, 21), date(2026, 5, 21), 249),
    "PyCon Italia": Conference("Florence", date(2026, 5, 27), date(2026, 5, 30), 190),
    "EuroPython": Conference("Prague", date(2026, 7, 13), date(2026, 7, 19), 450),
}


class UnknownConferenceError(ValueError):
    """The box office does not sell tickets for this conference."""


class FlightServiceUnavailableError(RuntimeError):
    """The airline's booking service failed this time; trying again later may work."""


class NoRouteError(RuntimeError):
    """No flight (or train) goes between these cities: retrying will not help."""


def reference(trip_id: str, kind: str) -> str:
    digest = hashlib.sha256(f"{trip_id}/{kind}".encode()).hexdigest()[:6].upper()
    return f"{kind[:2].upper()}-{digest}"


def book_conference(request: dict[str, Any]) -> dict[str, Any]:
    trip_id, name = request["trip_id"], request["conference"]
    conference = CONFERENCES.get(name)
    if conference is None:
        known = ", ".join(CONFERENCES)
        raise UnknownConferenceError(f"No tickets for '{name}'. Conferences on sale: {known}.")
    ticket = {
        "trip_id": trip_id,
        "conference": name,
        "city": conference.city,
        "starts": conference.starts.isoformat(),
        "ends": conference.ends.isoformat(),
        "price": conference.price,
        "reference": reference(trip_id, "conference"),
    }
    bookings.record(
        trip_id, "conference", Kind="conference", Status="booked", Item=name,
        Dates=f"{ticket['starts']}..{ticket['ends']}", Price=conference.price,
        Reference=ticket["reference"],
    )
    return ticket


def travel_request(request: dict[str, Any], ticket: dict[str, Any]) -> dict[str, Any]:
    """What to ask the airline (or the railway) for: there the day before the conference,
    back the day after. Pure, so orchestrators may call it."""
    outbound = date.fromisoformat(ticket["starts"]) - timedelta(days=1)
    back = date.fromisoformat(ticket["ends"]) + timedelta(days=1)
    travel = {
        "trip_id": request["trip_id"],
        "from": request.get("from", "London"),
        "to": ticket["city"],
        "outbound": outbound.isoformat(),
        "return": back.isoformat(),
    }
    for option in ("flight", "flight_failures", "train"):
        if option in request:
            travel[option] = request[option]
    return travel


def book_flight(request: dict[str, Any]) -> dict[str, Any]:
    trip_id = request["trip_id"]
    route = f"{request['from']} -> {request['to']}"
    attempt = bookings.count(trip_id, "flight-attempt-") + 1
    attempt_key = bookings.row_key("flight", "attempt", f"{attempt:02d}")
    error: Exception | None = None
    if request.get("flight") == "impossible":
        error = NoRouteError(f"No flight goes {route}.")
    elif attempt <= int(request.get("flight_failures", 0)):
        error = FlightServiceUnavailableError(
            f"The flight booking service is unavailable (attempt {attempt})."
        )
    outcome = {"Status": "failed", "Error": str(error)} if error else {"Status": "ok"}
    bookings.record(
        trip_id, attempt_key, Kind="flight-attempt", Item=route, Attempt=attempt, **outcome
    )
    if error is not None:
        raise error
    return _book_transport(request, "flight", FLIGHT_PRICE)


def book_train(request: dict[str, Any]) -> dict[str, Any]:
    if request.get("train") == "impossible":
        raise NoRouteError(f"No train goes {request['from']} -> {request['to']}.")
    return _book_transport(request, "train", TRAIN_PRICE)


def _book_transport(request: dict[str, Any], mode: str, price: int) -> dict[str, Any]:
    trip_id = request["trip_id"]
    booked = {
        "trip_id": trip_id,
        "mode": mode,
        "from": request["from"],
        "to": request["to"],
        "outbound": request["outbound"],
        "return": request["return"],
        "price": price,
        "reference": reference(trip_id, mode),
    }
    bookings.record(
        trip_id, mode, Kind=mode, Status="booked", Item=f"{booked['from']} -> {booked['to']}",
        Dates=f"{booked['outbound']}..{booked['return']}", Price=price,
        Reference=booked["reference"],
    )
    return booked


def book_hotel(request: dict[str, Any]) -> dict[str, Any]:
    trip_id = request["trip_id"]
    nights = (date.fromisoformat(request["check_out"]) - date.fromisoformat(request["check_in"]))
    price = HOTEL_PRICE_PER_NIGHT * max(nights.days, 1)
    room = {
        "trip_id": trip_id,
        "city": request["city"],
        "check_in": request["check_in"],
        "check_out": request["check_out"],
        "nights": max(nights.days, 1),
        "price": price,
        "reference": reference(trip_id, "hotel"),
    }
    bookings.record(
        trip_id, "hotel", Kind="hotel", Status="booked", Item=f"Hotel in {room['city']}",
        Dates=f"{room['check_in']}..{room['check_out']}", Price=price,
        Reference=room["reference"],
    )
    return room


def cancel_conference(ticket: dict[str, Any]) -> dict[str, Any]:
    bookings.update(ticket["trip_id"], "conference", Status="cancelled")
    return {"cancelled": ticket["reference"], "refund": ticket["price"]}


def report_expenses(report: dict[str, Any]) -> dict[str, Any]:
    trip_id = report["trip_id"]
    trips = report["trips"]
    total = sum(t["total"] for t in trips if t.get("status") == "booked")
    summary = {
        "trip_id": trip_id,
        "trips": len(trips),
        "booked": sum(1 for t in trips if t.get("status") == "booked"),
        "total": total,
        "reference": reference(trip_id, "expenses"),
    }
    bookings.record(
        trip_id, "expenses", Kind="expenses", Status="reported",
        Item=f"{summary['booked']} of {len(trips)} trips booked", Price=total,
        Reference=summary["reference"],
    )
    return summary


def send_email(message: dict[str, Any]) -> bool:
    """Deliver an e-mail; False (a bounce, not an error) for an address that cannot exist."""
    to = str(message["to"])
    delivered = bool(_EMAIL.fullmatch(to))
    bookings.record(
        message["trip_id"], bookings.row_key("email", to), Kind="email",
        Status="sent" if delivered else "bounced", Item=to, Subject=message.get("subject", ""),
    )
    return delivered


def count_bookings(trip_id: str) -> int:
    """How many of a trip's bookings stand (booked, not cancelled)."""
    return sum(
        1
        for row in bookings.rows(trip_id)
        if row["PartitionKey"] == trip_id
        and row.get("Kind") in BOOKING_KINDS
        and row.get("Status") == "booked"
    )
