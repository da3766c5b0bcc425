"""`durable.Orchestrator` on SDK trigger payloads: the SDK's unit-test idiom, on our engine.

Payloads are built here the way the SDK's tests build them (a context builder writing the
extension's history JSON), and the answers are compared as the SDK's tests compare them.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import durable as df
from durable.core.sdk_orchestrator import OUT_OF_PROC_LABEL, OrchestratorFailedError
from durable.models import DurableOrchestrationContext, OrchestratorState, ReplaySchema
from durable.models.actions import (
    CallActivityAction,
    CallActivityWithRetryAction,
    CallEntityAction,
    CallSubOrchestratorAction,
    ContinueAsNewAction,
    CreateTimerAction,
    SignalEntityAction,
    WaitForExternalEventAction,
    WhenAllAction,
    WhenAnyAction,
)
from durable.models.history import HistoryEventType as H

Gen = Generator[Any, Any, Any]
START = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class Builder:
    """Writes the extension's orchestration-trigger JSON, one second per event."""

    def __init__(self, input_: Any = None, schema: ReplaySchema = ReplaySchema.V1) -> None:
        self.now = START
        self.events: list[dict[str, Any]] = []
        self.schema = schema
        self.input = None if input_ is None else json.dumps(input_)
        self.add(H.ORCHESTRATOR_STARTED)
        self.add(H.EXECUTION_STARTED, Name="orch",
                 OrchestrationInstance={"InstanceId": "inst", "ExecutionId": "exec"})

    def add(self, kind: H, *, played: bool = False, event_id: int = -1, **fields: Any) -> None:
        self.now += timedelta(seconds=1)
        self.events.append({"EventType": int(kind), "EventId": event_id, "IsPlayed": played,
                            "Timestamp": self.now.strftime(FORMAT), **fields})

    def next_episode(self) -> None:
        self.add(H.ORCHESTRATOR_COMPLETED)
        self.add(H.ORCHESTRATOR_STARTED)

    def activity(self, seq: int, name: str, result: Any, played: bool = False) -> None:
        self.add(H.TASK_SCHEDULED, event_id=seq, Name=name)
        self.next_episode()
        self.add(H.TASK_COMPLETED, played=played, TaskScheduledId=seq, Result=json.dumps(result))

    def failed(self, seq: int, name: str, reason: str, details: str) -> None:
        self.add(H.TASK_SCHEDULED, event_id=seq, Name=name)
        self.next_episode()
        self.add(H.TASK_FAILED, TaskScheduledId=seq, Reason=reason, Details=details)

    def text(self, **extra: Any) -> str:
        return json.dumps({"history": self.events, "instanceId": "inst", "isReplaying": False,
                           "parentInstanceId": None, "input": self.input,
                           "upperSchemaVersion": self.schema.value, **extra})


def run(builder: Builder, fn: Any) -> dict[str, Any]:
    text = df.Orchestrator(fn).handle(DurableOrchestrationContext.from_json(builder.text()))
    result: dict[str, Any] = json.loads(text)
    return result


def hello_cities(context: df.DurableOrchestrationContext) -> Gen:
    outputs = []
    for city in ("Tokyo", "Seattle", "London"):
        outputs.append((yield context.call_activity("Hello", city)))
    return outputs


def test_first_episode_schedules_the_first_activity() -> None:
    result = run(Builder(), hello_cities)
    expected = OrchestratorState(False, [[CallActivityAction("Hello", "Tokyo")]], None)
    assert result == expected.to_json()
    assert "schemaVersion" not in result  # V1 writes none, as the SDK


def test_all_actions_so_far_are_listed_each_episode() -> None:
    builder = Builder()
    builder.activity(0, "Hello", "Hello Tokyo!")
    builder.activity(1, "Hello", "Hello Seattle!")
    result = run(builder, hello_cities)
    assert result["isDone"] is False
    assert [a[0]["input"] for a in result["actions"]] == ['"Tokyo"', '"Seattle"', '"London"']


def test_completed_orchestration_has_its_output() -> None:
    builder = Builder()
    for seq, city in enumerate(("Tokyo", "Seattle", "London")):
        builder.activity(seq, "Hello", f"Hello {city}!")
    result = run(builder, hello_cities)
    assert result["isDone"] is True
    assert result["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_task_all_is_one_group_in_v1_and_a_when_all_in_v2() -> None:
    def fan_out(context: df.DurableOrchestrationContext) -> Gen:
        tasks = [context.call_activity("Parrot", i) for i in range(3)]
        return sum((yield context.task_all(tasks)))

    v1 = run(Builder(), fan_out)
    assert v1["actions"] == [[CallActivityAction("Parrot", i).to_json() for i in range(3)]]
    v2 = run(Builder(schema=ReplaySchema.V2), fan_out)
    children = [CallActivityAction("Parrot", i) for i in range(3)]
    assert v2["schemaVersion"] == 1
    assert v2["actions"] == [[WhenAllAction(children).to_json()]]

    done = Builder()
    for i in range(3):
        done.add(H.TASK_SCHEDULED, event_id=i, Name="Parrot")
    done.next_episode()
    for i in (2, 0, 1):  # completions in any order
        done.add(H.TASK_COMPLETED, TaskScheduledId=i, Result=json.dumps(i * 10))
    assert run(done, fan_out)["output"] == 30


def test_task_any_with_timer_and_event() -> None:
    fire_at = START + timedelta(hours=1)

    def approval(context: df.DurableOrchestrationContext) -> Gen:
        timer = context.create_timer(fire_at)
        event = context.wait_for_external_event("Approve")
        winner = yield context.task_any([event, timer])
        if winner == event:
            timer.cancel()
            return event.result
        return "timeout"

    first = run(Builder(schema=ReplaySchema.V2), approval)
    compound = WhenAnyAction([WaitForExternalEventAction("Approve"), CreateTimerAction(fire_at)])
    assert first["actions"] == [[compound.to_json()]]

    approved = Builder()
    approved.add(H.TIMER_CREATED, event_id=0, FireAt=fire_at.strftime(FORMAT))
    approved.next_episode()
    approved.add(H.EVENT_RAISED, Name="Approve", Input=json.dumps("yes"))
    result = run(approved, approval)
    assert result["isDone"] is True and result["output"] == "yes"
    assert result["actions"] == [[
        WaitForExternalEventAction("Approve").to_json(),
        CreateTimerAction(fire_at, is_cancelled=True).to_json(),
    ]]


def test_failed_activity_fails_the_orchestration_as_the_sdk_reports_it() -> None:
    builder = Builder()
    builder.failed(0, "Hello", "Reasons", "Stuff and Things")
    with pytest.raises(OrchestratorFailedError) as caught:
        run(builder, hello_cities)
    message = str(caught.value)
    error, _, state_text = message.partition(OUT_OF_PROC_LABEL)
    assert error == "Reasons \n Stuff and Things"
    state = json.loads(state_text)
    assert state["isDone"] is False and state["error"] == error
    assert state["actions"] == [[CallActivityAction("Hello", "Tokyo").to_json()]]


def test_caught_failure_continues() -> None:
    def careful(context: df.DurableOrchestrationContext) -> Gen:
        try:
            yield context.call_activity("Hello", "Tokyo")
        except Exception as exc:
            return f"caught: {exc}"

    builder = Builder()
    builder.failed(0, "Hello", "boom", "trace")
    assert run(builder, careful)["output"] == "caught: boom \n trace"


def test_retry_is_one_action_with_its_options() -> None:
    options = df.RetryOptions(1000, 3)

    def retrying(context: df.DurableOrchestrationContext) -> Gen:
        return (yield context.call_activity_with_retry("Flaky", options, "x"))

    result = run(Builder(), retrying)
    expected = CallActivityWithRetryAction("Flaky", options, "x").to_json()
    assert result["actions"] == [[expected]]
    assert expected["retryOptions"]["maxNumberOfAttempts"] == 3


def test_signals_are_entries_of_their_own_and_calls_wait() -> None:
    counter = df.EntityId("Counter", "k")

    def busy(context: df.DurableOrchestrationContext) -> Gen:
        context.signal_entity(counter, "add", 1)
        value = yield context.call_entity(counter, "get")
        child = yield context.call_sub_orchestrator("Child", value, "child-1")
        context.set_custom_status({"child": child})
        context.continue_as_new(child + 1)

    first = run(Builder(), busy)
    assert first["actions"] == [
        [SignalEntityAction(counter, "add", 1).to_json()],
        [CallEntityAction(counter, "get").to_json()],
    ]
    assert first["actions"][0][0]["instanceId"] == "@counter@k"


def test_entity_answers_found_by_the_extensions_request_ids() -> None:
    counter_id = df.EntityId("Counter", "k")

    def ask(context: df.DurableOrchestrationContext) -> Gen:
        try:
            return (yield context.call_entity(counter_id, "get"))
        except Exception as exc:
            return f"failed: {exc}"

    answered = Builder()
    answered.add(H.EVENT_SENT, event_id=0, InstanceId="@counter@k", Name="op",
                 Input=json.dumps({"id": "ext-req-1"}))
    answered.next_episode()
    answered.add(H.EVENT_RAISED, Name="ext-req-1", Input=json.dumps({"result": json.dumps(5)}))
    assert run(answered, ask)["output"] == 5

    failed = Builder()
    failed.add(H.EVENT_SENT, event_id=0, InstanceId="@counter@k", Name="op",
               Input=json.dumps({"id": "ext-req-2"}))
    failed.next_episode()
    failed.add(H.EVENT_RAISED, Name="ext-req-2",
               Input=json.dumps({"result": "bad op", "exceptionType": "ValueError"}))
    assert run(failed, ask)["output"] == "failed: bad op"


def test_continue_as_new_ends_the_actions_and_the_execution() -> None:
    def again(context: df.DurableOrchestrationContext) -> Gen:
        n = yield context.call_activity("Step", context.get_input())
        context.set_custom_status({"n": n})
        context.continue_as_new(n)

    builder = Builder(input_=1)
    builder.activity(0, "Step", 2)
    result = run(builder, again)
    assert result["isDone"] is True
    assert result["customStatus"] == {"n": 2}
    assert result["actions"][-1] == [ContinueAsNewAction(2).to_json()]


def test_sub_orchestrator_without_id_leaves_it_to_the_runtime() -> None:
    def parent(context: df.DurableOrchestrationContext) -> Gen:
        yield context.call_sub_orchestrator("Child", {"n": 1})

    result = run(Builder(), parent)
    assert result["actions"] == [[CallSubOrchestratorAction("Child", {"n": 1}).to_json()]]
    assert result["actions"][0][0]["instanceId"] is None


def test_played_events_are_replayed() -> None:
    flags: list[bool] = []

    def watch(context: df.DurableOrchestrationContext) -> Gen:
        yield context.call_activity("A", 1)
        flags.append(context.is_replaying)
        yield context.call_activity("B", 2)
        flags.append(context.is_replaying)

    builder = Builder()
    builder.events[1]["IsPlayed"] = True
    builder.activity(0, "A", "a", played=True)
    builder.activity(1, "B", "b")
    orchestrator = df.Orchestrator(watch)
    state = json.loads(orchestrator.handle(builder.text()))
    assert flags == [True, False]
    # Replayed actions are listed as the code took them (the history's TaskScheduled rows
    # here have no input).
    assert state["actions"] == [[CallActivityAction("A", 1).to_json()],
                                [CallActivityAction("B", 2).to_json()]]
    assert orchestrator.durable_context is not None
    assert orchestrator.durable_context.is_replaying is False


def test_create_handle_and_function_context() -> None:
    seen: list[Any] = []

    def orch(context: df.DurableOrchestrationContext) -> str:
        seen.append(context.function_context.invocation)  # type: ignore[attr-defined]
        return "plain"

    handle = df.Orchestrator.create(orch)
    assert handle.orchestrator_function is orch  # type: ignore[attr-defined]

    class Body:
        body = Builder().text(invocation="inv-1")

    result = json.loads(handle(Body()))
    assert result == {"isDone": True, "actions": [], "output": "plain"}
    assert seen == ["inv-1"]


def test_handle_needs_a_payload_context() -> None:
    from durable.core.sdk_json import SdkPayloadError
    from durable.testing import run_orchestrator

    captured: list[df.DurableOrchestrationContext] = []

    def orch(context: df.DurableOrchestrationContext) -> Gen:
        captured.append(context)
        yield context.call_activity("a", 1)

    run_orchestrator(orch, activities={"a": lambda v: v})
    with pytest.raises(SdkPayloadError, match="from_json"):
        df.Orchestrator(orch).handle(captured[0])


def test_call_http_is_one_call_http_action() -> None:
    source = df.ManagedIdentityTokenSource("https://management.core.windows.net/")

    def fetch(context: df.DurableOrchestrationContext) -> Gen:
        response = yield context.call_http("POST", "https://example.test/jobs", {"n": 1},
                                           headers={"h": "v"}, token_source=source)
        return response.status_code

    first = run(Builder(), fetch)
    request = first["actions"][0][0]
    assert request["actionType"] == 8
    assert request["httpRequest"] == {
        "method": "POST", "uri": "https://example.test/jobs", "content": '{"n": 1}',
        "headers": {"h": "v"}, "tokenSource": source.to_json()}
    answered = Builder()
    answered.activity(0, "BuiltIn::HttpActivity",
                      {"statusCode": 201, "headers": {}, "content": "made"})
    assert run(answered, fetch)["output"] == 201


def test_action_classes_write_the_sdk_json() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert CreateTimerAction(when).to_json() == {
        "actionType": 5, "fireAt": "2024-01-02T03:04:05.600000Z", "isCanceled": False}
    assert WaitForExternalEventAction("go").to_json() == {
        "actionType": 6, "externalEventName": "go", "reason": "ExternalEvent"}
    assert CallSubOrchestratorAction("c", None, "id").to_json() == {
        "actionType": 2, "functionName": "c", "input": "null", "instanceId": "id"}
    with pytest.raises(ValueError, match="function_name"):
        CallActivityAction("")
    state = OrchestratorState(True, [], {"a": 1}, 1, custom_status="s")
    assert state.to_json() == {"isDone": True, "schemaVersion": 1, "actions": [],
                               "output": {"a": 1}, "customStatus": "s"}


# --- Entity: the SDK's entity batch payload ---------------------------------------------------


def counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    if context.operation_name == "add":
        value += context.get_input()
    elif context.operation_name == "fail":
        context.set_state(-1000)
        raise ValueError("no such luck")
    elif context.operation_name == "tell":
        context.signal_entity(df.EntityId("Audit", "a"), "seen", value)
    context.set_state(value)
    context.set_result(f"now {value}")


def entity_payload(*ops: tuple[str, Any], state: Any = None) -> str:
    # The extension sends each input as JSON text of JSON text.
    batch = [{"name": name, "input": json.dumps(json.dumps(value))} for name, value in ops]
    return json.dumps({"self": {"name": "Counter", "key": "k"}, "exists": state is not None,
                       "state": None if state is None else json.dumps(state), "batch": batch})


def test_entity_handle_runs_the_batch() -> None:
    context, batch = df.DurableEntityContext.from_json(
        entity_payload(("add", 3), ("fail", None), ("add", 4), ("tell", None), state=10))
    result = json.loads(df.Entity(counter).handle(context, batch))
    assert result["entityExists"] is True
    assert json.loads(result["entityState"]) == 17  # the failed operation was rolled back
    assert [(r["isError"], json.loads(r["result"])) for r in result["results"]] == [
        (False, "now 13"), (True, "no such luck"), (False, "now 17"), (False, "now 17")]
    assert result["signals"] == [
        {"target": {"name": "audit", "key": "a"}, "name": "seen", "input": "17"}]


def test_entity_handles_from_create_and_build() -> None:
    handle = df.Entity.create(counter)
    assert handle.entity_function is counter  # type: ignore[attr-defined]
    fresh = json.loads(handle(entity_payload(("add", 2))))
    assert fresh["entityExists"] is True and json.loads(fresh["entityState"]) == 2

    app = df.DFApp()

    @app.entity_trigger(context_name="context")
    def gaps_counter(context: df.DurableEntityContext) -> None:
        counter(context)

    built = gaps_counter.build().get_user_function()  # type: ignore[attr-defined]
    assert built.entity_function is gaps_counter
    assert json.loads(json.loads(built(entity_payload(("add", 5), state=1)))["entityState"]) == 6
