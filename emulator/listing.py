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
    print(text, end="", flush=True)
    for spec in plan.unsupported:
        _log.warning(
            "Function '%s' has a %s trigger, which this host does not run.",
            spec.name, spec.trigger_type,
        )
    for spec in indexed.functions:
        for binding in spec.unsupported:
            level = _log.warning if binding.direction == "out" else _log.debug
            level(
                "Function '%s': binding '%s' (%s) is not handled by this host%s.",
                spec.name, binding.name, binding.type,
                "; values set on it are discarded" if binding.direction == "out" else "",
            )
