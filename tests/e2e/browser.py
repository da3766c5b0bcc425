"""Headless Chromium for the dashboard's browser tests: Debian's `chromium` driven through
`chromedriver` by selenium, and the few helpers the tests share (explicit waits only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.hosts import HostProcess

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DASHBOARD = "runtime/webhooks/durabletask/dashboard/"
API = "runtime/webhooks/durabletask"
WAIT = 20.0


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless browser; a missing one is a broken set-up (`.ci/run` installs it)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: "
                    "apt-get install -y chromium chromium-driver", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(browser: WebDriver, condition: Callable[[WebDriver], Any], timeout: float = WAIT) -> Any:
    """What `condition` returns once it is truthy; fails at the deadline."""
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)
                         ).until(condition)


def open_page(browser: WebDriver, host: HostProcess, fragment: str, fresh: bool = False) -> None:
    """Show a view; `fresh` loads the document again (a change of fragment alone does not)."""
    browser.get(host.url(DASHBOARD) + fragment)
    if fresh:
        browser.refresh()


def css(browser: WebDriver, selector: str) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, selector)


def click(browser: WebDriver, selector: str) -> None:
    """Click the first element `selector` finds, once there is one; a page that re-renders
    meanwhile (a refresh) only makes it try again on the new element."""

    def clicked(b: WebDriver) -> bool:
        found = css(b, selector)
        if not found:
            return False
        found[0].click()
        return True

    wait(browser, clicked)


def text_of(browser: WebDriver, selector: str) -> str:
    """The text of the first element `selector` finds ("" while there is none)."""
    found = css(browser, selector)
    return str(found[0].text) if found else ""


def message(browser: WebDriver, containing: str) -> str:
    """The text of the visible message box once it says `containing` (an earlier view's
    message may still show for a moment after a change of fragment)."""
    box = wait(browser, lambda b: next((e for e in css(b, "#message")
                                        if e.is_displayed() and containing in e.text), None))
    return str(box.text)


def confirm(browser: WebDriver, fields: dict[str, str] | None = None) -> str:
    """Fill the open confirmation dialog, confirm; the API's answer as the dialog shows it."""
    wait(browser, lambda b: css(b, "#confirm[open]"))
    for name, value in (fields or {}).items():
        field = css(browser, f"#confirm-fields [name='{name}']")[0]
        field.clear()
        field.send_keys(value)
    click(browser, "#confirm-ok")
    answer = wait(browser, lambda b: next(
        (e for e in css(b, "#confirm-answer") if e.get_attribute("data-outcome")), None))
    return str(answer.text)


def close_dialog(browser: WebDriver) -> None:
    click(browser, "#confirm-cancel")
    wait(browser, lambda b: not css(b, "#confirm[open]"))
