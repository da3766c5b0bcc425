#!/usr/bin/env python3
"""Take the screenshots of docs/dashboard.md again.

    python docs/screenshots.py

Copies the sample app to a temporary folder with a fresh task hub, runs it under
`python -m emulator start` (which uses Azurite on 10000-10002, starting it when nothing
listens there), starts a few of its workflows, and saves the instance list and one instance
(a trip whose flight booking failed once and was retried) from headless Chromium into
docs/images/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
APP_FILES = ("function_app.py", "host.json", "local.settings.json", "sample")
DASHBOARD = "runtime/webhooks/durabletask/dashboard/"
API = "runtime/webhooks/durabletask"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_app(folder: Path) -> None:
    for name in APP_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    settings = json.loads((ROOT / "host.json").read_text())
    settings["extensions"]["durableTask"]["hubName"] = f"ConferenceBooking{uuid.uuid4().hex[:6]}"
    (folder / "host.json").write_text(json.dumps(settings, indent=2))


def wait_done(base: str, instance_id: str, wanted: set[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        url = f"{base}/{API}/instances/{instance_id}"
        body: dict[str, Any] = requests.get(url, timeout=10).json()
        if body.get("runtimeStatus") in wanted:
            return
        time.sleep(0.3)
    raise RuntimeError(f"{instance_id} did not reach {wanted}")


def start(base: str, name: str, instance_id: str, body: Any) -> None:
    url = f"{base}/api/orchestrators/{name}/{instance_id}"
    response = requests.post(url, json=body, timeout=30)
    response.raise_for_status()


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="dashboard-shots-"))
    copy_app(folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "host.log"
    with log.open("w") as out:
        host = subprocess.Popen(
            [sys.executable, "-m", "emulator", "start", "--no-reload", "--script-root",
             str(folder), "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "BOOKINGS_TABLE": f"Shots{uuid.uuid4().hex[:6]}"},
        )
    try:
        deadline = time.monotonic() + 90
        while "Host started" not in log.read_text():
            if host.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the host did not start:\n" + log.read_text())
            time.sleep(0.2)
        runs = [
            ("book_trip", "trip-retried", {"flight_failures": 1}),
            ("parallel_workflow", "trip-parallel", {}),
            ("sequential_workflow", "trip-sequential", {}),
            ("sequential_workflow", "trip-no-tickets", {"conference": "PyCon Atlantis"}),
            ("approval_workflow", "trip-approval", {}),
            ("combined_workflow", "trip-combined", {}),
        ]
        for name, instance_id, body in runs:
            start(base, name, instance_id, body)
        for _, instance_id, _ in runs:
            wanted = {"Running"} if instance_id == "trip-approval" else {"Completed", "Failed"}
            wait_done(base, instance_id, wanted)
        shoot(base)
    finally:
        host.terminate()
        host.wait(60)
        shutil.rmtree(folder, ignore_errors=True)


def shoot(base: str) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,760", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{base}/{DASHBOARD}#/instances")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "count-total") and len(
            d.find_elements(By.CSS_SELECTOR, "#instances tbody tr[data-instance-id]")) >= 6)
        driver.save_screenshot(str(IMAGES / "dashboard-instances.png"))
        driver.set_window_size(1280, 1500)
        driver.get(f"{base}/{DASHBOARD}#/instance/trip-retried")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "timeline"))
        driver.save_screenshot(str(IMAGES / "dashboard-instance.png"))
    finally:
        driver.quit()
    print(f"saved {IMAGES / 'dashboard-instances.png'} and {IMAGES / 'dashboard-instance.png'}")


if __name__ == "__main__":
    main()
