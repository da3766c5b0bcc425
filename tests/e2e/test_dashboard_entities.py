"""The dashboard's entities page in headless Chromium, against the emulator running the counter
entity app of the Durable Functions docs: signalling an entity from the page changes its state,
and the list shows it with its last operation time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.browser import API, chromium, close_dialog, confirm, css, open_page, wait
from tests.e2e.conftest import HostProcess

pytestmark = pytest.mark.azurite


@pytest.fixture(scope="module")
def host(azurite: str) -> Iterator[HostProcess]:
    process = HostProcess("counter_app", {"TEST_HUB_NAME": "dashcounter" + uuid.uuid4().hex[:8]})
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def state_of(host: HostProcess, key: str, expected: int) -> int:
    deadline = time.monotonic() + 30
    while True:
        got = requests.get(host.url(f"{API}/entities/Counter/{key}"), timeout=10)
        if got.status_code == 200 and got.json() == expected:
            return expected
        assert time.monotonic() < deadline, got.text
        time.sleep(0.1)


def test_signal_an_entity_from_the_page_and_see_its_state(host: HostProcess) -> None:
    key = uuid.uuid4().hex[:8]
    with chromium() as browser:
        open_page(browser, host, "#/entities")
        wait(browser, lambda b: css(b, "#entities tbody tr"))
        form = {"entityName": "Counter", "entityKey": key, "operation": "add", "input": "5"}
        for name, value in form.items():
            css(browser, f"#signal-form input[name='{name}']")[0].send_keys(value)
        css(browser, "#signal-form button[type='submit']")[0].click()
        assert "HTTP 202" in confirm(browser)
        state_of(host, key, 5)
        close_dialog(browser)  # the list loads again

        def row(b: WebDriver) -> list[str] | None:
            for tr in css(b, "#entities tbody tr"):
                cells = [td.text for td in tr.find_elements("css selector", "td")]
                if len(cells) == 4 and cells[1] == key:
                    return cells
            css(b, "#refresh")[0].click()
            return None

        name, _, last_operation, state = wait(browser, row)
        assert name == "counter" and state == "5" and last_operation.startswith("20")

        open_page(browser, host, "#/entities?name=Counter")
        wait(browser, lambda b: any(key in tr.text for tr in css(b, "#entities tbody tr")))
