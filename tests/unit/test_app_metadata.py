"""What a real Functions host indexes from a durable app holds only standard triggers.

A deployed app must never show orchestrationTrigger/activityTrigger/entityTrigger/
durableClient bindings, or Azure's own Durable extension would wake up (DESIGN.md).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STANDARD = {"httpTrigger", "http", "queueTrigger", "queue", "timerTrigger"}


@pytest.fixture
def sample_functions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("AzureWebJobsScriptRoot", str(ROOT))
    monkeypatch.delenv("AzureWebJobsStorage", raising=False)
    monkeypatch.delenv("FUNCTIONS_CORETOOLS_ENVIRONMENT", raising=False)
    spec = importlib.util.spec_from_file_location("sample_function_app", ROOT / "function_app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["sample_function_app"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop("sample_function_app", None)
    return [
        {"name": f.get_function_name(), **json.loads(f.get_function_json())}
        for f in module.app.get_functions()
    ]


def test_sample_metadata_has_only_standard_triggers(
    sample_functions: list[dict[str, object]],
) -> None:
    types = {b["type"] for f in sample_functions for b in f["bindings"]}  # type: ignore[attr-defined]
    assert types <= STANDARD, types
    names = {f["name"] for f in sample_functions}
    assert {"durable_control_00", "durable_workitems"} <= names
    # The management API is an ordinary HTTP Function under the route prefix; on Azure its
    # route cannot start with "runtime" (reserved by the Functions host).
    routes = {
        b.get("route") for f in sample_functions for b in f["bindings"]  # type: ignore[attr-defined]
        if b["type"] == "httpTrigger"
    }
    assert "webhooks/durabletask/{*path}" in routes, routes


def test_durable_client_parameter_is_not_a_binding(
    sample_functions: list[dict[str, object]],
) -> None:
    for f in sample_functions:
        for b in f["bindings"]:  # type: ignore[attr-defined]
            assert b["type"] not in {"durableClient", "orchestrationClient"}, f["name"]
