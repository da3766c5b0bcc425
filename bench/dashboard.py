#!/usr/bin/env python3
"""The dashboard's two speed targets, measured.

    python bench/dashboard.py [--instances 10000] [--events 5000] [--repeat 20]

1. A hub with `--instances` orchestration instances (rows written straight into the
   Instances table, statuses and names mixed): the time the management API takes to answer
   the dashboard's first page (`GET instances?top=50&showInput=false`, also filtered by
   status, name prefix and id prefix), the counts by status and the page itself. "Server"
   is the handler's own time, called in-process as the host calls it; "HTTP" is the round
   trip through the emulator. Target: first page under 300 ms of server time.
2. An instance with `--events` history events as the status endpoint shows them (the bench
   app's `fan_out` with as many activities; each TaskScheduled is folded into its
   TaskCompleted there, so about twice as many rows are stored): in headless Chromium, the
   time to fetch the status with history and render the instance page, and the time the
   timeline alone takes to build and lay out. Target: under 2 s.

Runs on a private Azurite (free ports, deleted afterwards) and the bench app's host (live
sessions not replay-checked, as deployed; measured once the host is idle). Prints a table;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import azure.functions as func  # noqa: E402
import requests  # noqa: E402

from bench.azurite import PrivateAzurite  # noqa: E402
from bench.context import LIVE_CHECK_SETTING  # noqa: E402
from bench.host import BenchHost, cpu_seconds  # noqa: E402
from durable.app.management import handle  # noqa: E402
from durable.app.root import process  # noqa: E402
from durable.core.status import OrchestrationRuntimeStatus as S  # noqa: E402
from durable.storage.interface import InstanceRecord  # noqa: E402
from durable.storage.settings import TaskHubSettings  # noqa: E402
from durable.storage.taskhub import TaskHub  # noqa: E402

API = "runtime/webhooks/durabletask"
NAMES = ("order_workflow", "approval_workflow", "report_workflow", "sync_workflow")
STATUSES = (S.Completed,) * 6 + (S.Running, S.Failed, S.Terminated, S.Pending)
INSERT_CONCURRENCY = 32
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


async def fill(hub: TaskHub, count: int) -> float:
    """Write `count` Instances rows; the seconds it took."""
    started = time.perf_counter()
    base = datetime.now(UTC) - timedelta(days=1)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def writer() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            created = base + timedelta(seconds=i * 5)
            await hub.instances.insert(InstanceRecord(
                instance_id=f"bench-{i:06d}", name=NAMES[i % len(NAMES)],
                runtime_status=STATUSES[i % len(STATUSES)], execution_id=uuid.uuid4().hex,
                input=f'{{"n": {i}}}', output='"done"', created_time=created,
                last_updated_time=created + timedelta(seconds=3),
            ))

    await asyncio.gather(*(writer() for _ in range(INSERT_CONCURRENCY)))
    return time.perf_counter() - started


def request(hub_name: str, path: str, query: dict[str, str]) -> func.HttpRequest:
    params = {"taskHub": hub_name, **query}
    return func.HttpRequest(
        "GET", f"http://localhost:7071/{API}/{path}?{urlencode(params)}", headers={},
        params=params, route_params={"path": path}, body=b"",
    )


async def server_times(hub_name: str, path: str, query: dict[str, str],
                       repeat: int) -> list[float]:
    times = []
    for _ in range(repeat + 1):  # the first call warms the clients up and is not counted
        started = time.perf_counter()
        response = await handle(request(hub_name, path, query))
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {query}: {response.status_code} {response.get_body()!r}")
    return times[1:]


def http_times(host: BenchHost, path: str, query: dict[str, str], repeat: int) -> list[float]:
    times = []
    with requests.Session() as session:
        for _ in range(repeat + 1):
            started = time.perf_counter()
            response = session.get(host.url(f"{API}/{path}"), params=query, timeout=60)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return times[1:]


def row(label: str, times: list[float], target: str = "") -> str:
    p95 = sorted(times)[min(len(times) - 1, math.ceil(len(times) * 0.95) - 1)]
    return (f"| {label:<46} | {statistics.median(times):>9.1f} | {p95:>9.1f} | "
            f"{max(times):>9.1f} | {target:<8} |")


def header(title: str) -> list[str]:
    return [f"\n{title}\n", f"| {'measure':<46} | {'median ms':>9} | {'p95 ms':>9} | "
            f"{'max ms':>9} | {'target':<8} |", f"|{'-' * 48}|{'-' * 11}|{'-' * 11}|"
            f"{'-' * 11}|{'-' * 10}|"]


LIST_CASES: tuple[tuple[str, str, dict[str, str], str], ...] = (
    ("first page (top=50)", "instances", {"top": "50", "showInput": "false"}, "< 300"),
    ("first page, status Running", "instances",
     {"top": "50", "showInput": "false", "runtimeStatus": "Running"}, ""),
    ("first page, name prefix", "instances",
     {"top": "50", "showInput": "false", "namePrefix": "report"}, ""),
    ("first page, id prefix", "instances",
     {"top": "50", "showInput": "false", "instanceIdPrefix": "bench-0042"}, ""),
    ("counts by status (full scan)", "taskhub/counts", {}, ""),
    ("queue depths", "taskhub", {}, ""),
    ("the page (dashboard/)", "dashboard/", {}, ""),
)


async def measure_list(host: BenchHost, hub_name: str, repeat: int) -> list[str]:
    lines = []
    for label, path, query, target in LIST_CASES:
        lines.append(row(f"server: {label}", await server_times(hub_name, path, query, repeat),
                         target))
        http = await asyncio.to_thread(http_times, host, path, query, repeat)
        lines.append(row(f"HTTP:   {label}", http))
    return lines


TIMELINE_SCRIPT = """
const [id, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const main = document.getElementById("view");
  const route = {view: "instance", args: [id], query: new URLSearchParams()};
  const t0 = performance.now();
  await Dash.views.instance(main, route);
  void main.offsetHeight;
  const full = performance.now() - t0;
  Dash.stopRefresh();
  const t2 = performance.now();
  const s = (await Dash.api("GET", "instances/" + encodeURIComponent(id),
    {query: {showHistory: "true", showHistoryOutput: "true", showInput: "true"}})).data;
  const fetch = performance.now() - t2;
  const box = document.createElement("div");
  document.body.appendChild(box);
  const t1 = performance.now();
  box.innerHTML = Dash.timeline(s.historyEvents, s);
  void box.offsetHeight;
  const timeline = performance.now() - t1;
  const rows = box.querySelectorAll(".tl-row").length;
  box.remove();
  done({full, fetch, timeline, rows, events: s.historyEvents.length});
})().catch((e) => done({error: String(e)}));
"""


def start_fan_out(host: BenchHost, events: int) -> str:
    """An instance with `events` history events as the status shows them, completed."""
    activities = max(1, events)
    response = requests.post(host.url("api/start/fan_out"), json=activities, timeout=60)
    response.raise_for_status()
    instance_id = response.text
    deadline = time.monotonic() + 600
    while True:
        status = requests.get(host.url(f"{API}/instances/{instance_id}"), timeout=60).json()
        if status["runtimeStatus"] == "Completed":
            break
        if time.monotonic() > deadline or status["runtimeStatus"] == "Failed":
            raise RuntimeError(f"fan_out({activities}) did not complete: {status}")
        time.sleep(0.5)
    wait_idle(host)
    return instance_id


def wait_idle(host: BenchHost, window: float = 1.0, busy: float = 0.05) -> None:
    """Until the host uses under `busy` of a core for a `window` (it finishes the commits
    behind the last episode first), at most a minute: the page is measured on a quiet host."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        used = cpu_seconds(host.pid)
        time.sleep(window)
        if cpu_seconds(host.pid) - used < busy * window:
            return


def measure_timeline(host: BenchHost, instance_id: str, repeat: int) -> list[str]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_script_timeout(120)
        driver.get(host.url(f"{API}/dashboard/") + "#/taskhub")
        full: list[float] = []
        fetched: list[float] = []
        alone: list[float] = []
        shown = {}
        for _ in range(repeat):
            shown = driver.execute_async_script(TIMELINE_SCRIPT, instance_id)
            if "error" in shown:
                raise RuntimeError(shown["error"])
            full.append(shown["full"])
            fetched.append(shown["fetch"])
            alone.append(shown["timeline"])
    finally:
        driver.quit()
    title = f"{shown['events']} history events shown, {shown['rows']} timeline rows"
    return [*header(f"Instance page in Chromium ({title})"),
            row("fetch + render the instance page", full, "< 2000"),
            row("of which: the status with history (fetch)", fetched),
            row("timeline alone (build + layout)", alone)]


async def run(args: argparse.Namespace) -> None:
    with PrivateAzurite() as azurite:
        os.environ["AzureWebJobsStorage"] = azurite.connection_string
        hub_name = f"DashBench{uuid.uuid4().hex[:8]}"
        settings = TaskHubSettings(hub_name=hub_name, connection_string=azurite.connection_string)
        async with TaskHub(settings) as hub:
            await hub.create_if_not_exists()
            took = await fill(hub, args.instances)
        print(f"{args.instances} instances written in {took:.1f} s", flush=True)
        # As deployed: no replay check of live sessions (the local host's default).
        host = BenchHost(azurite.connection_string, hub_name,
                         env={LIVE_CHECK_SETTING: "off"}).wait_ready()
        try:
            lines = header(f"Management API with {args.instances} instances "
                           f"({args.repeat} calls each)")
            lines += await measure_list(host, hub_name, args.repeat)
            if args.events:
                instance_id = await asyncio.to_thread(start_fan_out, host, args.events)
                browser_repeat = max(1, args.repeat // 4)
                lines += await asyncio.to_thread(
                    measure_timeline, host, instance_id, browser_repeat)
                query = {"showHistory": "true", "showHistoryOutput": "true", "showInput": "true"}
                lines.append(row("server: the status with history", await server_times(
                    hub_name, f"instances/{instance_id}", query, browser_repeat)))
        finally:
            host.stop()
            await (await process.task_hub(settings)).close()  # the in-process handler's
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000,
                        help="history events of the timeline's instance (0: skip)")
    parser.add_argument("--repeat", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
