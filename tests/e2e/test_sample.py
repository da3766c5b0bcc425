"""The sample app (function_app.py at the repository root) through the real emulator.

One host serves the module: a copy of the app in a temporary folder, with its own task hub
name in host.json and its own Bookings table (app setting BOOKINGS_TABLE), so runs never see
each other's data. Every workflow is started over HTTP, its status URL polled until it is
done, and its output and its rows in the Bookings table checked.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ROOT, HostProcess

pytestmark = pytest.mark.azurite

APP_FILES = ("function_app.py", "host.json", "local.settings.json", "sample")
FINAL = {"Completed", "Failed", "Terminated", "Canceled"}
ORCHESTRATORS = ("sequential_workflow", "book_trip", "combined_workflow", "parallel_workflow",
                 "email_workflow", "approval_workflow", "trip_monitor")


def copy_sample_app(folder: Path, hub_name: str) -> Path:
    """The sample app copied into `folder`, its host.json naming task hub `hub_name`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in APP_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    host_json = json.loads((ROOT / "host.json").read_text())
    host_json["extensions"]["durableTask"]["hubName"] = hub_name
    (folder / "host.json").write_text(json.dumps(host_json, indent=2))
    return folder


def unique_names() -> tuple[str, str]:
    """A task hub name and a Bookings table name for one run."""
    tag = uuid.uuid4().hex[:12]
    return f"Sample{tag}", f"Bookings{tag}"


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def host(azurite: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    hub, table = unique_names()
    app = copy_sample_app(tmp_path_factory.mktemp("sample") / "app", hub)
    process = HostProcess(str(app), {"BOOKINGS_TABLE": table})
    try:
        process.wait_ready()
        yield process
    finally:
        code = process.stop()
    assert code == 0, process.output


# --- helpers ------------------------------------------------------------------------------


def start(host: HostProcess, name: str, body: Any = None, instance_id: str = "") -> dict[str, Any]:
    """POST /api/orchestrators/{name}[/{id}]; the 202 check-status payload."""
    path = f"api/orchestrators/{name}" + (f"/{instance_id}" if instance_id else "")
    response = requests.post(host.url(path), json=body, timeout=30)
    assert response.status_code == 202, response.text
    payload: dict[str, Any] = response.json()
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    return payload


def status(links: dict[str, Any]) -> dict[str, Any]:
    response = requests.get(links["statusQueryGetUri"], timeout=30)
    assert response.status_code in (200, 202), response.text
    result: dict[str, Any] = response.json()
    return result


def wait_until(links: dict[str, Any], done: Any, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the status URL until `done(status)` holds; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        current = status(links)
        if done(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {timeout} s; last status: {current}")
        time.sleep(0.2)  # polling interval, bounded by the deadline


def wait_done(links: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    return wait_until(links, lambda s: s["runtimeStatus"] in FINAL, timeout)


def rows(host: HostProcess, trip: str) -> dict[tuple[str, str], dict[str, Any]]:
    response = requests.get(host.url("api/bookings"), params={"trip": trip}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return {(r["PartitionKey"], r["RowKey"]): r for r in response.json()}


def statuses(host: HostProcess, trip: str) -> dict[str, str]:
    return {rk: r["Status"] for (pk, rk), r in rows(host, trip).items() if pk == trip}


def recorded_at(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(row["RecordedAt"])


# --- the tests ----------------------------------------------------------------------------


def test_the_host_lists_the_sample_functions(host: HostProcess) -> None:
    out = host.output
    assert f"http_start: [POST] http://localhost:{host.port}/api/orchestrators/" in out
    assert f"list_bookings: [GET] http://localhost:{host.port}/api/bookings" in out
    for name in ORCHESTRATORS:
        assert f"{name}: orchestrationTrigger" in out
    assert "book_flight: activityTrigger" in out


def test_sequential_workflow(host: HostProcess) -> None:
    trip = new_id("seq")
    links = start(host, "sequential_workflow", {"conference": "EuroPython"}, trip)
    assert links["id"] == trip
    assert links["statusQueryGetUri"].startswith(
        f"http://127.0.0.1:{host.port}/runtime/webhooks/durabletask/instances/{trip}?"
    )

    done = wait_done(links)

    assert done["runtimeStatus"] == "Completed", done
    assert done["name"] == "sequential_workflow"
    out = done["output"]
    assert out["status"] == "booked" and out["trip_id"] == trip
    assert out["travel"]["to"] == "Prague"
    assert out["hotel"]["check_in"] == out["travel"]["outbound"] == "2026-07-12"
    assert out["total"] == 450 + 180 + 8 * 120
    booked = rows(host, trip)
    assert {rk: r["Status"] for (_, rk), r in booked.items()} == {
        "conference": "booked", "flight-attempt-01": "ok", "flight": "booked", "hotel": "booked"
    }
    assert booked[trip, "hotel"]["Reference"] == out["hotel"]["reference"]


def test_trip_id_defaults_to_the_instance_id(host: HostProcess) -> None:
    links = start(host, "sequential_workflow")
    done = wait_done(links)
    assert done["output"]["trip_id"] == links["id"]
    assert statuses(host, links["id"])["conference"] == "booked"


def test_flight_retried_with_exponential_backoff(host: HostProcess) -> None:
    trip = new_id("retry")
    done = wait_done(start(host, "book_trip", {"flight_failures": 2}, trip))

    assert done["output"]["travel"]["mode"] == "flight", done
    booked = rows(host, trip)
    attempts = [booked[trip, f"flight-attempt-0{n}"] for n in (1, 2, 3)]
    assert [a["Status"] for a in attempts] == ["failed", "failed", "ok"]
    assert "unavailable (attempt 1)" in attempts[0]["Error"]
    first_wait = recorded_at(attempts[1]) - recorded_at(attempts[0])
    second_wait = recorded_at(attempts[2]) - recorded_at(attempts[1])
    assert first_wait.total_seconds() >= 0.9  # retry after 1 s
    assert second_wait.total_seconds() >= 1.9  # then after 2 s (backoff coefficient 2)


def test_impossible_flight_falls_back_to_the_train(host: HostProcess) -> None:
    trip = new_id("train")
    done = wait_done(start(host, "book_trip", {"flight": "impossible"}, trip))

    out = done["output"]
    assert (out["status"], out["travel"]["mode"]) == ("booked", "train"), done
    assert done["customStatus"] == {
        "stage": "no flight, trying the train", "error": "No flight goes London -> Amsterdam."
    }
    assert statuses(host, trip) == {
        "conference": "booked", "flight-attempt-01": "failed", "flight-attempt-02": "failed",
        "flight-attempt-03": "failed", "train": "booked", "hotel": "booked",
    }


def test_no_transport_cancels_the_conference(host: HostProcess) -> None:
    trip = new_id("cancel")
    body = {"conference": "ServerlessDays Hamburg", "flight": "impossible", "train": "impossible"}
    done = wait_done(start(host, "book_trip", body, trip))

    assert done["runtimeStatus"] == "Completed"
    out = done["output"]
    assert out["status"] == "cancelled" and out["refund"] == 249
    assert "No train goes London -> Hamburg." in out["reason"]
    found = statuses(host, trip)
    assert found["conference"] == "cancelled"
    assert "hotel" not in found and "train" not in found


def test_combined_workflow_runs_book_trip_twice_in_sequence(host: HostProcess) -> None:
    trip = new_id("comb")
    done = wait_done(start(host, "combined_workflow", {}, trip))

    trips = done["output"]["trips"]
    assert [t["trip_id"] for t in trips] == [f"{trip}-1", f"{trip}-2"]
    assert [t["status"] for t in trips] == ["booked", "booked"]
    found = rows(host, trip)
    first_done = max(recorded_at(r) for (pk, _), r in found.items() if pk == f"{trip}-1")
    second_start = min(recorded_at(r) for (pk, _), r in found.items() if pk == f"{trip}-2")
    assert first_done < second_start


def test_parallel_workflow_fans_out_and_reports_expenses(host: HostProcess) -> None:
    trip = new_id("par")
    body = {"trips": [{"conference": "EuroPython"},
                      {"conference": "PyCon Italia", "flight": "impossible"}]}
    done = wait_done(start(host, "parallel_workflow", body, trip))

    out = done["output"]
    assert [t["travel"]["mode"] for t in out["trips"]] == ["flight", "train"], done
    total = sum(t["total"] for t in out["trips"])
    assert out["expenses"]["total"] == total == (450 + 180 + 960) + (190 + 95 + 600)
    found = rows(host, trip)
    assert found[trip, "expenses"]["Price"] == total
    assert found[trip, "expenses"]["Item"] == "2 of 2 trips booked"
    assert found[f"{trip}-2", "train"]["Status"] == "booked"


def test_email_fan_out(host: HostProcess) -> None:
    trip = new_id("mail")
    recipients = [f"attendee{n}@example.com" for n in range(12)] + ["nobody"]
    done = wait_done(start(host, "email_workflow", {"recipients": recipients}, trip))

    assert done["output"] == {"trip_id": trip, "sent": 12, "bounced": ["nobody"],
                              "all_delivered": False}
    found = statuses(host, trip)
    assert sum(1 for s in found.values() if s == "sent") == 12
    assert found["email-nobody"] == "bounced"


def test_approval_raised_through_the_send_event_link(host: HostProcess) -> None:
    trip = new_id("appr")
    links = start(host, "approval_workflow", {"conference": "PyCon Italia"}, trip)
    waiting = wait_until(links, lambda s: (s["customStatus"] or {}).get("stage")
                         == "waiting for approval")
    assert waiting["runtimeStatus"] == "Running"
    assert statuses(host, trip) == {"email-manager@example.com": "sent"}

    url = links["sendEventPostUri"].replace("{eventName}", "approval")
    response = requests.post(url, json={"approved": True, "by": "Grace"}, timeout=30)
    assert response.status_code == 202, response.text

    done = wait_done(links)
    assert done["output"]["status"] == "approved", done
    assert done["output"]["decision"] == {"approved": True, "by": "Grace"}
    assert done["output"]["trip"]["conference"]["city"] == "Florence"
    assert done["customStatus"] == {"stage": "done"}
    assert statuses(host, trip)["hotel"] == "booked"


def test_approval_times_out(host: HostProcess) -> None:
    trip = new_id("late")
    done = wait_done(start(host, "approval_workflow", {"timeout_seconds": 1}, trip))
    assert done["output"] == {"trip_id": trip, "status": "timed out"}
    assert "conference" not in statuses(host, trip)


def test_terminate_and_purge(host: HostProcess) -> None:
    trip = new_id("term")
    links = start(host, "approval_workflow", {}, trip)
    wait_until(links, lambda s: s["customStatus"] is not None)

    url = links["terminatePostUri"].replace("{text}", "changed my mind")
    assert requests.post(url, timeout=30).status_code == 202
    done = wait_done(links)
    assert done["runtimeStatus"] == "Terminated"
    assert done["output"] == "changed my mind"

    response = requests.delete(links["purgeHistoryDeleteUri"], timeout=30)
    assert (response.status_code, response.json()) == (200, {"instancesDeleted": 1})
    assert requests.get(links["statusQueryGetUri"], timeout=30).status_code == 404


def test_monitor_polls_until_the_trip_is_booked(host: HostProcess) -> None:
    trip = new_id("watched")
    monitor = start(host, "trip_monitor", {"trip_id": trip, "interval_seconds": 0.5})
    polling = wait_until(monitor, lambda s: (s["customStatus"] or {}).get("check", 0) >= 2)
    assert polling["customStatus"]["bookings"] == 0
    assert polling["runtimeStatus"] in ("Running", "ContinuedAsNew", "Pending")

    wait_done(start(host, "sequential_workflow", {}, trip))
    done = wait_done(monitor)

    assert done["output"]["status"] == "complete", done
    assert done["output"]["bookings"] == 3
    assert done["output"]["check"] >= 3
    assert done["input"]["check"] == done["output"]["check"]  # each check a new execution


def test_starting_an_unknown_orchestrator_is_a_400(host: HostProcess) -> None:
    response = requests.post(host.url("api/orchestrators/no_such_thing"), timeout=30)
    assert response.status_code == 400
    assert "no_such_thing" in response.json()["error"]


def test_a_body_that_is_not_json_is_a_400(host: HostProcess) -> None:
    response = requests.post(host.url("api/orchestrators/sequential_workflow"),
                             data=b"{not json", timeout=30)
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is not valid JSON."}


def test_a_running_instance_id_cannot_be_started_again(host: HostProcess) -> None:
    trip = new_id("twice")
    links = start(host, "approval_workflow", {}, trip)
    response = requests.post(host.url(f"api/orchestrators/approval_workflow/{trip}"), timeout=30)
    assert response.status_code == 409, response.text
    requests.post(links["terminatePostUri"].replace("{text}", "done"), timeout=30)
    wait_done(links)


def test_a_failing_orchestration_reports_the_error(host: HostProcess) -> None:
    done = wait_done(start(host, "sequential_workflow", {"conference": "NoSuchConf"}))
    assert done["runtimeStatus"] == "Failed"
    assert "No tickets for 'NoSuchConf'" in json.dumps(done["output"])
