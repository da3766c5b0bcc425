"""The start-up listing of functions, in func start's format:

    Functions:

            hello: [GET,POST] http://localhost:7071/api/hello

            on_message: queueTrigger
"""

from __future__ import annotations

from emulator.indexer import IndexedApp
from emulator.logs import host_logger
from emulator.plan import HostPlan

_log = host_logger()
# Durable Functions' management API route under a local host. An app that serves it (as
# durable's DFApp does) has its dashboard below it; the listing links to it, after the
# functions, as the one URL to open in a browser.
DURABLE_WEBHOOK_ROUTE = "runtime/webhooks/durabletask/{*path}"
DASHBOARD_PATH = "runtime/webhooks/durabletask/dashboard/"


def dashboard_url(plan: HostPlan, port: int) -> str | None:
    """The dashboard's local URL when the app serves the management API, else None."""
    for route in plan.routes:
        if route.template.text.lower() == DURABLE_WEBHOOK_ROUTE:
            return f"http://localhost:{port}/{DASHBOARD_PATH}"
    return None


def function_lines(indexed: IndexedApp, plan: HostPlan, port: int) -> list[str]:
    urls: dict[str, list[str]] = {}
    methods: dict[str, str] = {}
    for route in plan.routes:
        urls.setdefault(route.spec.name, []).append(
            f"http://localhost:{port}/{route.template.text}"
        )
        if route.methods:
            methods[route.spec.name] = "[" + ",".join(sorted(route.methods)) + "] "
    lines: list[str] = []
    for spec in indexed.functions:
        if spec.name in urls:
            # A webhook route is listed where callers use it: without the route prefix.
            url = min(urls[spec.name], key=len)
            lines.append(f"{spec.name}: {methods.get(spec.name, '')}{url}")
        else:
            lines.append(f"{spec.name}: {spec.trigger_type}")
    lines.extend(f"{name}: {trigger}" for trigger, name in indexed.durable)
    return lines


def print_functions(indexed: IndexedApp, plan: HostPlan, port: int) -> None:
    lines = function_lines(indexed, plan, port)
    text = "\nFunctions:\n\n" + "".join(f"\t{line}\n\n" for line in lines) if lines else (
        "\nNo functions found.\n"
    )
    dashboard = dashboard_url(plan, port)
    if dashboard:
        text += f"Dashboard: {dashboard}\n\n"
    print(text, end="", flush=True)
    for line in warnings(indexed, plan):
        _log.warning(line)


def warnings(indexed: IndexedApp, plan: HostPlan) -> list[str]:
    """What the app declares that this host does not do, each with what to do instead."""
    lines = [
        f"Function '{spec.name}' has a {spec.trigger_type} trigger, which this host does not "
        "run: it is listed but never invoked. Run it on Azure, or with Core Tools against the "
        "real service."
        for spec in plan.unsupported
    ]
    for spec in indexed.functions:
        if spec.unsupported:
            names = ", ".join(f"'{b.name}' ({b.type}, {b.direction})" for b in spec.unsupported)
            lines.append(
                f"Function '{spec.name}': this host cannot serve its binding(s) {names}; every "
                "invocation of it fails without running it. Use the service's SDK inside the "
                "function, or run it on Azure."
            )
    for spec in plan.retry_ignored:
        lines.append(
            f"Function '{spec.name}': its retry policy is not applied to {spec.trigger_type} "
            "functions, as on Azure (the host retries timer functions; queue and blob triggers "
            "retry through maxDequeueCount / poisonBlobThreshold in host.json)."
        )
    return lines
