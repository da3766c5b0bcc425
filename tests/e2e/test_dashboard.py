"""The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium) against the emulator running the sample app.

One host and one browser serve the module. Every wait is an explicit WebDriverWait or a
poll of the management API with a deadline. The read-only test edits host.json and waits for
the host's reload, so it runs last.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.e2e.browser import (
    API,
    DASHBOARD,
    chromium,
    click,
    close_dialog,
    confirm,
    css,
    message,
    open_page,
    text_of,
    wait,
)
from tests.e2e.conftest import HostProcess
from tests.e2e.test_sample import copy_sample_app, start, unique_names

pytestmark = pytest.mark.azurite

RELOADED = r"Reload complete\."


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    hub, _ = unique_names()
    return copy_sample_app(tmp_path_factory.mktemp("dash") / "app", hub)


@pytest.fixture(scope="module")
def host(azurite: str, app_dir: Path) -> Iterator[HostProcess]:
    _, table = unique_names()
    process = HostProcess(str(app_dir), {"BOOKINGS_TABLE": table})
    try:
        process.wait_ready()
        yield process
    finally:
        code = process.stop()
    assert code == 0, process.output


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


# --- helpers ------------------------------------------------------------------------------


def tag() -> str:
    return uuid.uuid4().hex[:8]


def listed_ids(browser: WebDriver) -> set[str]:
    rows = css(browser, "#instances tbody tr[data-instance-id]")
    return {str(r.get_attribute("data-instance-id")) for r in rows}


def wait_listed(browser: WebDriver, check: Callable[[set[str]], bool]) -> set[str]:
    """The listed ids once `check` holds for them (the list refreshes itself)."""
    found: set[str] = set()

    def ready(b: WebDriver) -> bool:
        nonlocal found
        found = listed_ids(b)
        return check(found)

    wait(browser, ready)
    return found


def api_status(host: HostProcess, instance_id: str) -> requests.Response:
    return requests.get(host.url(f"{API}/instances/{instance_id}"), timeout=10)


def wait_status(host: HostProcess, instance_id: str, wanted: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = api_status(host, instance_id).json()
        if body.get("runtimeStatus") in wanted:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def open_instance(browser: WebDriver, host: HostProcess, instance_id: str) -> None:
    """Show an instance's page, and wait until it is that instance's (not the last one's)."""
    open_page(browser, host, f"#/instance/{instance_id}")
    wait(browser, lambda b: text_of(b, "#instance-id") == instance_id)


def act(browser: WebDriver, action: str, fields: dict[str, str] | None = None) -> str:
    """Click an action, fill the dialog, confirm; the API's answer as the dialog shows it."""
    click(browser, f"#actions button[data-action='{action}']:enabled")
    return confirm(browser, fields)


# --- tests ---------------------------------------------------------------------------------


def test_the_host_prints_the_dashboard_link(host: HostProcess) -> None:
    line = host.wait_for(r"^Dashboard: ")
    assert line == f"Dashboard: http://localhost:{host.port}/{DASHBOARD}"


def test_list_shows_instances_and_filters_narrow_it(host: HostProcess, browser: WebDriver) -> None:
    t = tag()
    seq, appr = f"seq-{t}", f"appr-{t}"
    start(host, "sequential_workflow", {}, seq)
    start(host, "approval_workflow", {}, appr)
    wait_status(host, seq, {"Completed"})
    wait_status(host, appr, {"Running"})

    open_page(browser, host, "#/instances")
    wait_listed(browser, lambda ids: {seq, appr} <= ids)
    total = wait(browser, lambda b: css(b, "#count-total"))[0]
    assert int(total.text) >= 2

    name = css(browser, "#filters input[name='name']")[0]
    name.send_keys("sequential")
    css(browser, "#apply-filters")[0].click()
    ids = wait_listed(browser, lambda ids: seq in ids and appr not in ids)
    assert all(i.startswith("seq-") for i in ids)

    open_page(browser, host, f"#/instances?id=appr-{t}&status=Running")
    assert wait_listed(browser, lambda ids: ids == {appr}) == {appr}
    box = css(browser, "#filters input[value='Running']")[0]
    assert box.is_selected()
    box.click()
    css(browser, "#filters input[value='Completed']")[0].click()
    css(browser, "#apply-filters")[0].click()
    wait(browser, lambda b: "No instances match" in text_of(b, "#instances tbody"))

    open_page(browser, host, "#/instances?from=2030-01-01T00:00&to=2020-01-01T00:00")
    assert "nothing can match" in message(browser, "later than")
    open_page(browser, host, "#/instances?status=Bogus")
    text = message(browser, "Unknown runtime status 'Bogus'")
    assert "HTTP 400" in text


def test_sorting_orders_the_rows(host: HostProcess, browser: WebDriver) -> None:
    t = tag()
    for n in range(3):
        start(host, "sequential_workflow", {}, f"sort{n}-{t}")
    open_page(browser, host, "#/instances?name=sequential")
    wait_listed(browser, lambda ids: {f"sort{n}-{t}" for n in range(3)} <= ids)
    header = css(browser, "th[data-key='instanceId']")[0]
    header.click()
    ascending = [r.get_attribute("data-instance-id") for r in css(browser, "#instances tbody tr")]
    assert ascending == sorted(ascending)
    header.click()
    descending = [r.get_attribute("data-instance-id") for r in css(browser, "#instances tbody tr")]
    assert descending == sorted(ascending, reverse=True)


def test_an_instance_shows_its_timeline_and_history(host: HostProcess, browser: WebDriver) -> None:
    iid = f"par-{tag()}"
    start(host, "parallel_workflow", {}, iid)
    wait_status(host, iid, {"Completed"})
    open_instance(browser, host, iid)
    wait(browser, lambda b: css(b, "#timeline .tl-row"))
    kinds = [r.get_attribute("data-kind") for r in css(browser, "#timeline .tl-row")]
    labels = [r.text for r in css(browser, "#timeline .tl-row .tl-label")]
    assert kinds[0] == "orchestration"
    assert kinds.count("suborchestration") == 2 and kinds.count("activity") == 1
    assert any(label.startswith("report_expenses") for label in labels)
    children = [a.text for a in css(browser, "#children a")]
    assert sorted(children) == [f"{iid}:0", f"{iid}:1"]
    assert "report_expenses" in css(browser, "#history")[0].text
    assert '"expenses"' in css(browser, "#output")[0].text

    css(browser, "#children a")[0].click()
    wait(browser, lambda b: css(b, "#parent a") and text_of(b, "#parent a") == iid)
    activity_labels = wait(browser, lambda b: [
        r.text for r in css(b, "#timeline .tl-row[data-kind='activity'] .tl-label")] or None)
    for activity in ("book_conference", "book_flight", "book_hotel"):
        assert any(label.startswith(activity) for label in activity_labels), activity_labels


def test_raising_an_event_from_the_page_completes_an_approval(
    host: HostProcess, browser: WebDriver
) -> None:
    iid = f"appr-{tag()}"
    start(host, "approval_workflow", {}, iid)
    wait_status(host, iid, {"Running"})
    open_instance(browser, host, iid)
    wait(browser, lambda b: "waiting for approval" in text_of(b, "#custom-status"))

    bad = act(browser, "raise", {"eventName": "approval", "eventData": "{not json"})
    assert "not valid JSON" in bad
    close_dialog(browser)
    answer = act(browser, "raise", {"eventName": "approval", "eventData": '{"approved": true}'})
    assert "HTTP 202" in answer
    close_dialog(browser)
    done = wait_status(host, iid, {"Completed", "Failed"})
    assert done["runtimeStatus"] == "Completed" and done["output"]["status"] == "approved"
    wait(browser, lambda b: text_of(b, "#instance-status") == "Completed")
    assert [r.get_attribute("data-kind") for r in css(browser, "#timeline .tl-row")].count(
        "event") == 1


def test_terminate_and_purge_from_the_page(host: HostProcess, browser: WebDriver) -> None:
    iid = f"appr-{tag()}"
    start(host, "approval_workflow", {}, iid)
    wait_status(host, iid, {"Running"})
    open_instance(browser, host, iid)
    assert "HTTP 202" in act(browser, "terminate", {"reason": "changed plans"})
    close_dialog(browser)
    assert wait_status(host, iid, {"Terminated"})["output"] == "changed plans"
    wait(browser, lambda b: text_of(b, "#instance-status") == "Terminated")

    refused = act(browser, "restart", {})  # terminated: restart is allowed, a new id
    assert "HTTP 202" in refused
    close_dialog(browser)
    wait(browser, lambda b: text_of(b, "#instance-status") == "Terminated")
    answer = act(browser, "purge")
    assert "HTTP 200" in answer and '"instancesDeleted": 1' in answer
    close_dialog(browser)
    wait(browser, lambda b: b.current_url.endswith("#/instances"))
    assert api_status(host, iid).status_code == 404

    open_page(browser, host, f"#/instance/{iid}")
    assert "HTTP 404" in message(browser, "No instance with id")


def test_a_failed_action_shows_the_api_error(host: HostProcess, browser: WebDriver) -> None:
    iid = f"appr-{tag()}"
    start(host, "approval_workflow", {}, iid)
    wait_status(host, iid, {"Running"})
    open_instance(browser, host, iid)
    wait(browser, lambda b: css(b, "#actions button[data-action='terminate']:enabled"))
    requests.post(host.url(f"{API}/instances/{iid}/terminate"), timeout=10)
    wait_status(host, iid, {"Terminated"})
    answer = act(browser, "terminate")  # the page has not noticed yet: the API refuses
    assert "HTTP 410" in answer and "no longer applies" in answer
    close_dialog(browser)


def test_start_new_from_the_page(host: HostProcess, browser: WebDriver) -> None:
    open_page(browser, host, "#/start")
    select = wait(browser, lambda b: css(b, "#orchestrator option"))
    assert "approval_workflow" in [o.text for o in select]
    iid = f"new-{tag()}"
    Select(css(browser, "#orchestrator")[0]).select_by_visible_text("sequential_workflow")
    css(browser, "#start-form input[name='instanceId']")[0].send_keys(iid)
    field = css(browser, "#start-input")[0]
    field.clear()
    field.send_keys(json.dumps({"conference": "ServerlessDays Hamburg"}))
    css(browser, "#start-form button[type='submit']")[0].click()
    wait(browser, lambda b: css(b, "#confirm[open]"))
    css(browser, "#confirm-ok")[0].click()
    link = wait(browser, lambda b: css(b, "#confirm-answer a"))[0]
    assert link.text == iid
    done = wait_status(host, iid, {"Completed"})
    assert done["input"] == {"conference": "ServerlessDays Hamburg"}


def test_task_hub_page_shows_the_queues(host: HostProcess, browser: WebDriver) -> None:
    open_page(browser, host, "#/taskhub")
    rows = wait(browser, lambda b: css(b, "#queues tbody tr"))
    assert len(rows) == 5  # four control queues and the work-item queue
    assert rows[-1].text.split()[0].endswith("-workitems")
    assert int(css(browser, "#status-counts")[0].text.split("Total")[1].split()[0]) >= 1


def test_a_failed_instance_shows_its_failure_and_can_be_rewound(
    host: HostProcess, browser: WebDriver
) -> None:
    iid = f"fail-{tag()}"
    start(host, "sequential_workflow", {"conference": "PyCon Atlantis"}, iid)
    wait_status(host, iid, {"Failed"})
    open_instance(browser, host, iid)
    failure = wait(browser, lambda b: text_of(b, "#failure"))
    assert "TaskFailedError" in failure and "No tickets for 'PyCon Atlantis'" in failure
    assert "Traceback (most recent call last)" in failure
    kinds = [r.get_attribute("data-kind") for r in css(browser, "#timeline .tl-row")]
    assert kinds == ["orchestration", "activity"]
    assert css(browser, "#timeline .tl-row[data-kind='activity'] .tl-bar.failed")
    assert "HTTP 202" in act(browser, "rewind", {"reason": "tickets are on sale now"})
    close_dialog(browser)


def test_the_key_and_hub_of_the_page_url_go_on_every_api_call(
    host: HostProcess, browser: WebDriver
) -> None:
    # Without the trailing slash, as a link may give it: the page finds the API all the same.
    browser.get(host.url(DASHBOARD.rstrip("/")) + "?code=k3y#/instances?from=2099-01-01T00:00")
    wait(browser, lambda b: "No instances match" in text_of(b, "#instances tbody"))
    calls = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)")
    api_calls = [c for c in calls if "/durabletask/" in c and "/dashboard" not in c]
    assert any("/durabletask/instances?" in c for c in api_calls), calls
    assert any("/durabletask/taskhub/counts?" in c for c in api_calls), calls
    assert all("code=k3y" in c for c in api_calls), api_calls
    assert any("createdTimeFrom=2099-01-01T00%3A00%3A00Z" in c for c in api_calls), api_calls


def test_paging_and_auto_refresh(host: HostProcess, browser: WebDriver) -> None:
    t = tag()
    ids = [f"page{n}-{t}" for n in range(3)]
    for instance_id in ids:
        start(host, "sequential_workflow", {}, instance_id)
    open_page(browser, host, "#/instances?id=page&name=sequential&top=2")
    first = wait_listed(browser, lambda found: len(found) == 2)
    assert text_of(browser, "#page-label") == "Page 1"
    wait(browser, lambda b: css(b, "#next-page:enabled"))[0].click()
    wait(browser, lambda b: text_of(b, "#page-label") == "Page 2")
    second = wait_listed(browser, lambda found: len(found) == 1)
    assert first | second == set(ids) and css(browser, "#next-page:disabled")
    css(browser, "#prev-page")[0].click()
    assert wait_listed(browser, lambda found: found == first) == first

    open_page(browser, host, f"#/instances?id=late-{t}")
    wait(browser, lambda b: "No instances match" in text_of(b, "#instances tbody"))
    start(host, "sequential_workflow", {}, f"late-{t}")  # shows up without a click
    wait_listed(browser, lambda found: found == {f"late-{t}"})
    css(browser, "#auto-refresh")[0].click()
    open_page(browser, host, "#/instances")
    assert not wait(browser, lambda b: css(b, "#auto-refresh"))[0].is_selected()
    css(browser, "#auto-refresh")[0].click()
    assert css(browser, "#auto-refresh")[0].is_selected()


def test_suspend_and_resume_from_the_page(host: HostProcess, browser: WebDriver) -> None:
    iid = f"appr-{tag()}"
    start(host, "approval_workflow", {}, iid)
    wait_status(host, iid, {"Running"})
    open_instance(browser, host, iid)
    assert "HTTP 202" in act(browser, "suspend")
    close_dialog(browser)
    wait_status(host, iid, {"Suspended"})
    wait(browser, lambda b: text_of(b, "#instance-status") == "Suspended")
    assert "HTTP 202" in act(browser, "resume")
    close_dialog(browser)
    wait_status(host, iid, {"Running"})
    wait(browser, lambda b: text_of(b, "#instance-status") == "Running")


def test_poison_messages_are_shown_and_deleted(
    host: HostProcess, browser: WebDriver, app_dir: Path, azurite: str
) -> None:
    hub = json.loads((app_dir / "host.json").read_text())["extensions"]["durableTask"]["hubName"]
    poison = QueueClient.from_connection_string(azurite, f"{hub.lower()}-workitems-poison")
    with contextlib.suppress(ResourceExistsError):
        poison.create_queue()
    kept = poison.send_message(json.dumps({"kept": True}))
    doomed = poison.send_message(json.dumps({"doomed": True}))
    try:
        open_page(browser, host, "#/taskhub")
        wait(browser, lambda b: css(b, "button[data-poison]"))[0].click()
        wait(browser, lambda b: len(css(b, "#poison-list tbody tr")) == 2)
        assert '"doomed": true' in text_of(browser, "#poison-list")
        css(browser, f"button[data-delete='{doomed.id}']")[0].click()
        assert "HTTP 200" in confirm(browser)
        close_dialog(browser)
        wait(browser, lambda b: len(css(b, "#poison-list tbody tr")) == 1)
        assert kept.id in text_of(browser, "#poison-list")
        assert [m.id for m in poison.peek_messages(max_messages=32)] == [kept.id]
    finally:
        poison.delete_queue()


def test_read_only_mode_hides_every_action(
    host: HostProcess, browser: WebDriver, app_dir: Path
) -> None:
    iid = f"appr-{tag()}"
    start(host, "approval_workflow", {}, iid)
    wait_status(host, iid, {"Running"})
    host_json = app_dir / "host.json"
    settings = json.loads(host_json.read_text())
    settings["extensions"]["durableTask"]["dashboard"] = {"readOnly": True}
    mark = host.mark()
    host_json.write_text(json.dumps(settings, indent=2))
    host.wait_for(RELOADED, after=mark)

    open_page(browser, host, f"#/instance/{iid}", fresh=True)
    wait(browser, lambda b: text_of(b, "#instance-status") == "Running")
    assert css(browser, "#readonly-badge")[0].is_displayed()
    assert not css(browser, "#actions") and not css(browser, "button[data-action]")
    assert not any(a.is_displayed() for a in css(browser, "header nav a[data-view='start']"))
    open_page(browser, host, "#/entities")
    wait(browser, lambda b: css(b, "#entities tbody tr"))
    assert not css(browser, "#signal-form")
    open_page(browser, host, "#/start")
    assert "cannot be started" in message(browser, "read-only")
