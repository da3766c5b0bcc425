"""The SDK 1.7 small gaps that need no storage: decorators, statuses, context payloads."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest

import durable as df
import durable.testing
from durable.app.root import process
from durable.client.bindings import ClientBindingError, parse_binding
from durable.core.history import EventType
from durable.core.registry import DurableKind
from durable.core.sdk_json import SdkPayloadError
from durable.testing import run_orchestrator

Gen = Generator[Any, Any, Any]


def test_blueprint_accepts_http_auth_level() -> None:
    bp = df.Blueprint(http_auth_level=func.AuthLevel.ANONYMOUS)
    assert bp.http_auth_level is func.AuthLevel.ANONYMOUS
    assert df.Blueprint("admin").http_auth_level == "admin"


def test_function_name_above_durable_triggers_renames_them() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name(name="gaps_renamed_orchestrator")
    @app.orchestration_trigger(context_name="context")
    def gaps_orch(context: df.DurableOrchestrationContext) -> Gen:
        return (yield context.call_activity(gaps_act, "x"))

    @app.function_name("gaps_renamed_activity")
    @app.activity_trigger(input_name="value")
    def gaps_act(value: str) -> str:
        return value * 2

    @app.function_name("gaps_renamed_entity")
    @app.entity_trigger(context_name="context")
    def gaps_entity(context: df.DurableEntityContext) -> None:
        context.set_state(1)

    durable_names = dict((name, kind) for kind, name in app.get_durable_functions())
    assert durable_names["gaps_renamed_orchestrator"] == "orchestrator"
    assert durable_names["gaps_renamed_activity"] == "activity"
    assert durable_names["gaps_renamed_entity"] == "entity"
    assert not {"gaps_orch", "gaps_act", "gaps_entity"} & set(durable_names)
    assert process.registry.get(DurableKind.ORCHESTRATOR, "gaps_renamed_orchestrator")
    assert process.registry.get(DurableKind.ORCHESTRATOR, "gaps_orch") is None
    # Still only standard triggers for the Functions host, and the app indexes.
    indexed = {f.get_function_name() for f in app.get_functions()}
    assert not {"gaps_renamed_orchestrator", "gaps_orch"} & indexed
    # Passing the function names it under its new name.
    run = run_orchestrator(gaps_orch, activities={"gaps_renamed_activity": lambda v: v + "!"})
    assert run.output == "x!"


def test_function_name_still_names_ordinary_functions() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name("gaps_http_named")
    @app.route(route="gaps")
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("ok")

    assert "gaps_http_named" in {f.get_function_name() for f in app.get_functions()}


def test_build_get_user_function_reaches_the_user_code() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.orchestration_trigger(context_name="context")
    def gaps_built_orch(context: df.DurableOrchestrationContext) -> Gen:
        return (yield context.call_activity("gaps_built_act", 3))

    @app.activity_trigger(input_name="n")
    def gaps_built_act(n: int) -> int:
        return n + 1

    @app.entity_trigger(context_name="context")
    def gaps_built_entity(context: df.DurableEntityContext) -> None:
        context.set_state(context.get_state(lambda: 0) + 1)

    @app.route(route="gaps_start")
    @app.durable_client_input(client_name="client")
    async def gaps_starter(req: func.HttpRequest, client: Any) -> func.HttpResponse:
        return func.HttpResponse("started")

    handle = gaps_built_orch.build().get_user_function()  # type: ignore[attr-defined]
    assert handle.orchestrator_function is gaps_built_orch
    assert gaps_built_orch.build().get_function_name() == "gaps_built_orch"  # type: ignore[attr-defined]
    # The handle runs the orchestrator on a trigger payload, as the SDK's does.
    state = json.loads(handle(json.dumps(_payload([]))))
    assert state["actions"] == [
        [{"actionType": 0, "functionName": "gaps_built_act", "input": "3"}]
    ]
    assert gaps_built_act.build().get_user_function() is gaps_built_act  # type: ignore[attr-defined]
    assert gaps_built_act.build().get_user_function()(4) == 5  # type: ignore[attr-defined]
    entity = gaps_built_entity.build().get_user_function()  # type: ignore[attr-defined]
    assert entity.entity_function is gaps_built_entity
    client_fn = gaps_starter.build().get_user_function()
    assert client_fn.client_function.__name__ == "gaps_starter"
    assert "client" in inspect.signature(client_fn.client_function).parameters


def test_testing_docstrings_name_only_exported_names() -> None:
    for module in (durable.testing, durable.testing.orchestrations, durable.testing.entities):
        for name in re.findall(r"\bdf\.(\w+)", module.__doc__ or ""):
            assert hasattr(df, name), f"{module.__name__} docstring uses df.{name}"


# --- DurableOrchestrationStatus -----------------------------------------------------------


def test_status_takes_the_sdk_keyword_arguments() -> None:
    status = df.DurableOrchestrationStatus(
        name="hello",
        instanceId="abc",
        createdTime="2024-05-01T10:00:00Z",
        lastUpdatedTime="2024-05-01T10:00:05.123Z",
        input={"a": 1},
        output=[1, 2],
        runtimeStatus="Completed",
        customStatus="step 2",
        history=[{"EventType": "ExecutionStarted"}],
        message="kept as the SDK keeps unknown keys",
    )
    assert status
    assert status.instance_id == "abc"
    assert status.created_time == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert status.last_updated_time == datetime(2024, 5, 1, 10, 0, 5, 123000, tzinfo=UTC)
    assert status.input_ == {"a": 1} and status.output == [1, 2]
    assert status.runtime_status is df.OrchestrationRuntimeStatus.Completed
    assert status.custom_status == "step 2"
    assert status.message == "kept as the SDK keeps unknown keys"  # type: ignore[attr-defined]
    body = status.to_json()
    assert body["history"] == [{"EventType": "ExecutionStarted"}]
    assert "historyEvents" not in body
    assert status.to_status_body()["historyEvents"] == body["history"]
    assert body["instanceId"] == "abc" and body["runtimeStatus"] == "Completed"


def test_status_from_json_round_trips_the_sdk_shape() -> None:
    status = df.DurableOrchestrationStatus(instanceId="x", createdTime="2024-01-01T00:00:00Z",
                                           runtimeStatus=df.OrchestrationRuntimeStatus.Running)
    again = df.DurableOrchestrationStatus.from_json(status.to_json())
    assert again.instance_id == "x"
    assert again.runtime_status is df.OrchestrationRuntimeStatus.Running
    assert not df.DurableOrchestrationStatus(instanceId="missing")  # no created time: not found
    with pytest.raises(ValueError):
        df.DurableOrchestrationStatus(runtimeStatus="Sleeping")


# --- DurableOrchestrationContext.from_json ------------------------------------------------


def _event(kind: int, second: int, **fields: Any) -> dict[str, Any]:
    return {"EventType": kind, "EventId": fields.pop("EventId", -1), "IsPlayed": False,
            "Timestamp": f"2024-03-01T12:00:{second:02d}.000000Z", **fields}


def _payload(events: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    history = [
        _event(12, 0),
        _event(0, 0, Name="o", OrchestrationInstance={"InstanceId": "i-1", "ExecutionId": "e"}),
        *events,
    ]
    return {"history": history, "instanceId": "i-1", "isReplaying": False,
            "parentInstanceId": "parent-1", "input": json.dumps({"city": "Oslo"}), **extra}


def test_context_from_json_reads_the_trigger_payload() -> None:
    text = json.dumps(_payload([_event(15, 1, Name="go", Input='"yes"')],
                               functionName="o", invocationId="inv-9"))
    context = df.DurableOrchestrationContext.from_json(text)
    assert context.instance_id == "i-1"
    assert context.parent_instance_id == "parent-1"
    assert context.is_replaying is False
    assert context.current_utc_datetime == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert context.get_input() == {"city": "Oslo"}
    kinds = [e.event_type for e in context.histories]
    assert kinds == [
        EventType.OrchestratorStarted, EventType.ExecutionStarted, EventType.EventRaised
    ]
    assert context.histories[2].input == '"yes"'
    assert context.function_context.functionName == "o"  # type: ignore[attr-defined]
    assert context.function_context.invocationId == "inv-9"  # type: ignore[attr-defined]
    printed = context.history_to_string()
    assert '"event_type": "EventRaised"' in printed and '"name": "go"' in printed


def test_function_context_is_empty_when_the_runtime_runs_the_orchestrator() -> None:
    seen: list[Any] = []

    def orch(context: df.DurableOrchestrationContext) -> Gen:
        seen.append(vars(context.function_context))
        yield context.call_activity("a", 1)

    run_orchestrator(orch, activities={"a": lambda v: v})
    assert seen and all(v == {} for v in seen)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "must be an object"),
        ('{"instanceId": "x"}', "no 'history' list"),
        ('{"history": [{"EventType": 99, "Timestamp": "2024-01-01T00:00:00Z"}]}', "history\\[0\\]"),
        ('{"history": [{"EventType": 0}]}', "Timestamp"),
    ],
)
def test_context_from_json_names_what_is_wrong(payload: str, message: str) -> None:
    with pytest.raises(SdkPayloadError, match=message):
        df.DurableOrchestrationContext.from_json(payload)


# --- the durableClient binding string -------------------------------------------------------


BINDING = {
    "taskHubName": "GapsHub",
    "creationUrls": {},
    "managementUrls": {
        "id": "INSTANCEID",
        "statusQueryGetUri": "https://myapp.azurewebsites.net/runtime/webhooks/durabletask/"
        "instances/INSTANCEID?taskHub=GapsHub&connection=OtherStorage&code=abc",
    },
    "baseUrl": "https://myapp.azurewebsites.net/runtime/webhooks/durabletask",
    "requiredQueryStringParameters": "code=abc",
    "rpcBaseUrl": "http://127.0.0.1:17071/durabletask/",
}


def test_binding_string_names_hub_connection_and_origin() -> None:
    binding = parse_binding(json.dumps(BINDING))
    assert binding.task_hub == "GapsHub"
    assert binding.connection_name == "OtherStorage"
    assert binding.origin == "https://myapp.azurewebsites.net"
    default = dict(BINDING, managementUrls={"statusQueryGetUri": "http://h/x?connection=Storage"})
    assert parse_binding(json.dumps(default)).connection_name is None


def test_binding_string_errors_are_specific() -> None:
    with pytest.raises(ClientBindingError, match="not JSON"):
        parse_binding("{nope")
    with pytest.raises(ClientBindingError, match="object"):
        parse_binding("[]")


def test_indexer_lists_durable_functions_under_function_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    from pathlib import Path

    from emulator.indexer import index_app

    app_dir = Path(__file__).resolve().parents[1] / "apps" / "function_name_app"
    monkeypatch.chdir(app_dir)
    monkeypatch.setenv("TEST_HUB_NAME", "FunctionNameApp")
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "function_app", raising=False)
    # A registry of its own: other tests of this process registered functions of the same
    # names (a Functions worker imports one app per process).
    from durable.app.root import process
    from durable.core.registry import DurableRegistry

    monkeypatch.setattr(process, "registry", DurableRegistry())
    monkeypatch.setattr(process, "dispatchers_taken", False)
    indexed = index_app(app_dir)
    sys.modules.pop("function_app", None)
    assert set(indexed.durable) == {
        ("orchestrationTrigger", "HelloOrchestrator"),
        ("activityTrigger", "SayHello"),
        ("entityTrigger", "Counter"),
    }
    assert "HttpStart" in {spec.name for spec in indexed.functions}


def test_function_handle_as_the_sdk_tests_reach_it() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.function_name("gaps_pystein")
    @app.orchestration_trigger(context_name="context")
    def gaps_pystein_orch(context: df.DurableOrchestrationContext) -> Gen:
        return (yield context.call_activity("gaps_pystein_act", 1))

    @app.activity_trigger(input_name="n")
    def gaps_pystein_act(n: int) -> int:
        return n

    handle = gaps_pystein_orch._function._func  # type: ignore[attr-defined]
    assert handle.orchestrator_function is gaps_pystein_orch
    assert inspect.unwrap(handle) is gaps_pystein_orch
    state = json.loads(handle(json.dumps(_payload([]))))
    assert state["actions"][0][0]["functionName"] == "gaps_pystein_act"
    assert gaps_pystein_act._function._func is gaps_pystein_act  # type: ignore[attr-defined]
    # Unit-test helpers that unwrap FunctionBuilders still find the user's function.
    run = run_orchestrator(gaps_pystein_orch, activities=[gaps_pystein_act])
    assert run.output == 1


def test_context_takes_the_sdks_constructor_arguments() -> None:
    history = _payload([])["history"]
    first = df.DurableOrchestrationContext(history, "i-9", False, None, json.dumps([1, 2]),
                                           1, invocation="x")
    again = df.DurableOrchestrationContext(history, "i-9", False, None)
    assert first.instance_id == "i-9" and first.get_input() == [1, 2]
    assert first.function_context.invocation == "x"  # type: ignore[attr-defined]
    ids = [first.new_uuid(), first.new_uuid()]
    assert ids == [again.new_uuid(), again.new_uuid()] and ids[0] != ids[1]
    state = json.loads(df.Orchestrator(lambda c: c.get_input()).handle(first))
    # Schema V2 (upperSchemaVersion 1): one list of actions, empty here, as the SDK writes it.
    assert state == {"isDone": True, "schemaVersion": 1, "actions": [[]], "output": [1, 2]}
    with pytest.raises(SdkPayloadError, match="history\\[0\\]"):
        df.DurableOrchestrationContext([{"EventType": 0}], "i-9", False, None)


def test_function_name_below_a_durable_trigger_names_it_too() -> None:
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.activity_trigger(input_name="value")
    @app.function_name("gaps_below_named")
    def gaps_below(value: str) -> str:
        return value

    assert ("activity", "gaps_below_named") in app.get_durable_functions()
    assert process.registry.get(DurableKind.ACTIVITY, "gaps_below_named") is not None
    assert "gaps_below_named" not in {f.get_function_name() for f in app.get_functions()}
    assert gaps_below("x") == "x"

    with pytest.raises(df.DurableError, match="closest to the function"):

        @app.activity_trigger(input_name="req")
        @app.route(route="gaps_mixed")
        def gaps_mixed(req: func.HttpRequest) -> str:
            return "no"
