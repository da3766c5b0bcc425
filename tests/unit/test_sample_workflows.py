"""The sample's orchestrators (function_app.py) in memory with `durable.testing`.

The real activities run, with the Bookings table replaced by a dict, so these tests check
the workflows and the pretend services together without Azurite. The same workflows run
end to end through the emulator in tests/e2e/test_sample.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import function_app as app
from durable.core.history import OrchestrationStatus
from durable.testing import ExternalEvent, OrchestrationRun, run_orchestrator
from sample import bookings

ACTIVITIES = [
    app.book_conference,
    app.book_flight,
    app.book_train,
    app.book_hotel,
    app.cancel_conference,
    app.report_expenses,
    app.send_email,
    app.count_bookings,
]
Rows = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Rows]:
    """The Bookings table as a dict keyed by (PartitionKey, RowKey)."""
    rows: Rows = {}

    def record(trip_id: str, key: str, **columns: Any) -> None:
        rows[trip_id, key] = {"PartitionKey": trip_id, "RowKey": key, **columns}

    def update(trip_id: str, key: str, **columns: Any) -> None:
        rows[trip_id, key].update(columns)

    def count(trip_id: str, key_prefix: str) -> int:
        return sum(1 for pk, rk in rows if pk == trip_id and rk.startswith(key_prefix))

    def all_rows(trip: str | None = None) -> list[dict[str, Any]]:
        return [
            row for (pk, _), row in sorted(rows.items())
            if trip is None or pk == trip or pk.startswith(f"{trip}-")
        ]

    monkeypatch.setattr(bookings, "record", record)
    monkeypatch.setattr(bookings, "update", update)
    monkeypatch.setattr(bookings, "count", count)
    monkeypatch.setattr(bookings, "rows", all_rows)
    yield rows


def run(orchestrator: Any, input: Any = None, **kwargs: Any) -> OrchestrationRun:
    return run_orchestrator(
        orchestrator, input, activities=ACTIVITIES, sub_orchestrators=[app.book_trip], **kwargs
    )


def statuses(rows: Rows, trip: str) -> dict[str, str]:
    return {rk: row["Status"] for (pk, rk), row in rows.items() if pk == trip}


def test_sequential_workflow_feeds_each_step_into_the_next(table: Rows) -> None:
    result = run(app.sequential_workflow, {"trip_id": "t1", "conference": "PyCon Italia"})

    assert result.succeeded, result.output
    out = result.output
    assert out["conference"]["city"] == "Florence"
    assert out["travel"]["to"] == "Florence" and out["travel"]["outbound"] == "2026-05-26"
    assert out["hotel"]["check_in"] == out["travel"]["outbound"]
    assert out["hotel"]["check_out"] == out["travel"]["return"] == "2026-05-31"
    assert out["total"] == 190 + 180 + 5 * 120
    assert [c.name for c in result.activity_calls] == ["book_conference", "book_flight",
                                                       "book_hotel"]
    assert statuses(table, "t1") == {"conference": "booked", "flight-attempt-01": "ok",
                                     "flight": "booked", "hotel": "booked"}


def test_trip_id_defaults_to_the_instance_id(table: Rows) -> None:
    result = run(app.sequential_workflow, None, instance_id="from-the-id")
    assert result.output["trip_id"] == "from-the-id"
    assert result.output["conference"]["conference"] == "ServerlessDays Amsterdam"


def test_unknown_conference_fails_the_orchestration(table: Rows) -> None:
    result = run(app.sequential_workflow, {"conference": "NoSuchConf"})
    assert result.status is OrchestrationStatus.Failed
    assert "No tickets for 'NoSuchConf'" in result.output


def test_book_trip_retries_the_flight_with_exponential_backoff(table: Rows) -> None:
    result = run(app.book_trip, {"trip_id": "t2", "flight_failures": 2})

    assert result.output["status"] == "booked"
    assert result.output["travel"]["mode"] == "flight"
    attempts = [c.at for c in result.activity_calls if c.name == "book_flight"]
    assert [b - a for a, b in zip(attempts, attempts[1:], strict=False)] == [
        timedelta(seconds=1), timedelta(seconds=2)
    ]
    assert statuses(table, "t2")["flight-attempt-03"] == "ok"


def test_book_trip_takes_the_train_when_no_flight_goes(table: Rows) -> None:
    result = run(app.book_trip, {"trip_id": "t3", "flight": "impossible"})

    assert result.output["status"] == "booked"
    assert result.output["travel"]["mode"] == "train"
    assert result.output["total"] == 299 + 95 + 3 * 120
    assert len(result.inputs_of("book_flight")) == 3
    assert result.custom_status["stage"] == "no flight, trying the train"
    assert statuses(table, "t3")["train"] == "booked"


def test_book_trip_cancels_the_conference_when_no_transport(table: Rows) -> None:
    result = run(app.book_trip, {"trip_id": "t4", "flight": "impossible", "train": "impossible"})

    assert result.succeeded
    assert result.output["status"] == "cancelled"
    assert result.output["refund"] == 299
    assert "No flight goes London -> Amsterdam." in result.output["reason"]
    assert "No train goes" in result.output["reason"]
    assert result.inputs_of("cancel_conference") == [result.output["conference"]]
    assert statuses(table, "t4")["conference"] == "cancelled"
    assert "hotel" not in statuses(table, "t4")


def test_combined_workflow_books_trips_one_after_the_other(table: Rows) -> None:
    result = run(app.combined_workflow, {"trip_id": "t5"})

    trips = result.output["trips"]
    assert [t["trip_id"] for t in trips] == ["t5-1", "t5-2"]
    assert [t["conference"]["city"] for t in trips] == ["Amsterdam", "Hamburg"]
    assert len(result.sub_orchestrations) == 2
    # In sequence: every activity of the first trip runs before any of the second.
    order = [c.input["trip_id"] for c in result.activity_calls]
    assert order == sorted(order)


def test_parallel_workflow_reports_expenses_over_all_trips(table: Rows) -> None:
    result = run(
        app.parallel_workflow,
        {"trip_id": "t6", "trips": [
            {"conference": "EuroPython"},
            {"conference": "PyCon Italia", "flight": "impossible", "train": "impossible"},
        ]},
    )

    trips = result.output["trips"]
    assert [t["status"] for t in trips] == ["booked", "cancelled"]
    expenses = result.output["expenses"]
    assert expenses == result.activity_calls[-1].result
    assert expenses["trips"] == 2 and expenses["booked"] == 1
    assert expenses["total"] == trips[0]["total"] == 450 + 180 + 8 * 120
    assert result.inputs_of("report_expenses") == [{"trip_id": "t6", "trips": trips}]
    assert statuses(table, "t6") == {"expenses": "reported"}


def test_email_workflow_checks_every_result(table: Rows) -> None:
    recipients = ["ada@example.com", "grace@example.org", "not-an-address"]
    result = run(app.email_workflow, {"trip_id": "t7", "recipients": recipients})

    assert result.output == {"trip_id": "t7", "sent": 2, "bounced": ["not-an-address"],
                             "all_delivered": False}
    assert sorted(result.inputs_of("send_email"), key=str) == sorted(
        ({"trip_id": "t7", "to": to, "subject": "Your conference trip"} for to in recipients),
        key=str,
    )
    assert statuses(table, "t7")["email-not-an-address"] == "bounced"


def test_email_workflow_with_no_recipients(table: Rows) -> None:
    result = run(app.email_workflow, {"trip_id": "t8"})
    assert result.output["all_delivered"] is True and result.output["sent"] == 0


def test_approval_books_the_trip_when_approved(table: Rows) -> None:
    approval = ExternalEvent("approval", {"approved": True, "by": "Grace"},
                             after=timedelta(minutes=5))
    result = run(app.approval_workflow, {"trip_id": "t9"}, events=[approval])

    assert result.output["status"] == "approved"
    assert result.output["trip"]["status"] == "booked"
    assert result.custom_status == {"stage": "done"}
    # The timer was cancelled: the orchestration did not wait out the hour.
    assert result.finished_at - result.started_at == timedelta(minutes=5)
    assert result.inputs_of("send_email")[0]["to"] == "manager@example.com"


def test_approval_rejected(table: Rows) -> None:
    result = run(app.approval_workflow, {"trip_id": "t10"},
                 events=[ExternalEvent("approval", False)])
    assert result.output["status"] == "rejected"
    assert "book_conference" not in {c.name for c in result.activity_calls}


def test_approval_times_out(table: Rows) -> None:
    result = run(app.approval_workflow, {"trip_id": "t11", "timeout_seconds": 90})
    assert result.output == {"trip_id": "t11", "status": "timed out"}
    assert result.finished_at - result.started_at == timedelta(seconds=90)


def test_monitor_polls_until_the_trip_is_booked(table: Rows) -> None:
    counts = iter([0, 1, 3])

    def count_bookings(trip_id: str) -> int:
        return next(counts)

    result = run_orchestrator(
        app.trip_monitor, {"trip_id": "t12", "interval_seconds": 30},
        activities={"count_bookings": count_bookings},
    )

    assert result.output["status"] == "complete"
    assert result.output["check"] == 3
    assert result.executions == 3  # continue_as_new twice
    assert result.custom_status == {"trip_id": "t12", "check": 3, "bookings": 3, "expected": 3}
    assert result.finished_at - result.started_at == timedelta(seconds=60)


def test_monitor_gives_up_after_max_checks(table: Rows) -> None:
    result = run(app.trip_monitor, {"trip_id": "nobody", "max_checks": 4, "interval_seconds": 1})
    assert result.output["status"] == "gave up" and result.output["check"] == 4


def test_monitor_needs_a_trip_id(table: Rows) -> None:
    result = run(app.trip_monitor, {})
    assert result.status is OrchestrationStatus.Failed
    assert "needs the trip_id" in result.output
