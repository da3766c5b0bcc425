"""OpenTelemetry spans of workflows run through queues and tables (in-process pump), caught
by the SDK's in-memory exporter: the span tree, failures, retries, timers and events, the
caller's trace context from an HTTP start."""

from __future__ import annotations

import json

import pytest
from opentelemetry import trace

from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from tests.integration.test_client_apps import running
from tests.integration.test_http_api import call
from tests.support.hubs import poll_until, running_hub, wait_for_status
from tests.support.spans import Span, by_name, duplicate_ids, in_memory_exporter, one, recorded


@pytest.fixture(params=[True, False], ids=["sessions", "replay"])
def settings(
    connection_string: str, hub_name: str, request: pytest.FixtureRequest
) -> TaskHubSettings:
    in_memory_exporter()
    return TaskHubSettings(
        hub_name=hub_name,
        connection_string=connection_string,
        extended_sessions_enabled=request.param,
    )


def children(spans: list[Span], parent: Span) -> list[Span]:
    return [s for s in spans if s.parent_id == parent.span_id and s.trace_id == parent.trace_id]


def tasks(spans: list[Span], orchestration: Span, name: str) -> list[tuple[Span, Span]]:
    """(client span, its one server span) of each task `name` the orchestration scheduled:
    Durable Task's `activity:` / `orchestration:` client span, child of the orchestration,
    over the span of the work itself."""
    pairs = []
    for client in by_name(children(spans, orchestration), name):
        if client.kind != "CLIENT":
            continue
        (server,) = [s for s in children(spans, client) if s.kind == "SERVER"]
        assert server.name == client.name
        assert client.attributes["durabletask.task.task_id"] == (
            server.attributes.get("durabletask.task.task_id",
                                  client.attributes["durabletask.task.task_id"]))
        pairs.append((client, server))
    return pairs


async def test_sequence_is_one_tree_under_the_callers_span(settings: TaskHubSettings) -> None:
    tracer = trace.get_tracer("test")
    async with running_hub(settings) as r:
        with tracer.start_as_current_span("caller") as caller:
            iid = await r.client.start_new("hello_sequence")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed
    spans = recorded(settings.hub_name)
    create = one(spans, "create_orchestration:hello_sequence", iid)
    assert create.kind == "PRODUCER"
    assert create.parent_id == f"{caller.get_span_context().span_id:016x}"
    orchestration = one(spans, "orchestration:hello_sequence", iid)
    assert orchestration.kind == "SERVER" and orchestration.parent_id == create.span_id
    assert orchestration.attributes["durabletask.task.status"] == "Completed"
    assert orchestration.attributes["durabletask.type"] == "orchestration"
    assert orchestration.error is None
    under = children(spans, orchestration)
    pairs = tasks(spans, orchestration, "activity:say_hello")
    assert len(pairs) == 3
    assert sorted(c.attributes["durabletask.task.task_id"] for c, _ in pairs) == [0, 1, 2]
    assert all(a.attributes["durabletask.task.status"] == "Completed" for _, a in pairs)
    # A client span lasts from the scheduling to the answer, around the execution.
    assert all(c.start_ns <= a.start_ns for c, a in pairs)
    episodes = by_name(under, "episode:hello_sequence")
    assert sorted(e.attributes["durabletask.episode"] for e in episodes) == [1, 2, 3, 4]
    # Every span of the instance is in the tree: nothing emitted twice, nothing orphaned.
    mine = [s for s in spans if s.instance_id == iid]
    assert len(mine) == 1 + 1 + 3 + 3 + 4 and duplicate_ids(mine) == []


async def test_fan_out_activities_are_siblings(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("fan_out", client_input=12)
        assert (await wait_for_status(r.client, iid)).output == 12
    spans = recorded(settings.hub_name)
    orchestration = one(spans, "orchestration:fan_out", iid)
    pairs = tasks(spans, orchestration, "activity:say_hello")
    assert len(pairs) == 12
    assert len({c.attributes["durabletask.task.task_id"] for c, _ in pairs}) == 12
    # The orchestration span spans its activities (its start is the ExecutionStarted time).
    assert all(a.start_ns >= orchestration.start_ns for _, a in pairs)


async def test_sub_orchestrations_are_children_and_failures_are_errors(
    settings: TaskHubSettings,
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("parent_of_two")
        assert (await wait_for_status(r.client, iid, timeout=60)).runtime_status is S.Completed
    spans = recorded(settings.hub_name)
    parent = one(spans, "orchestration:parent_of_two", iid)
    pairs = tasks(spans, parent, "orchestration:")
    assert sorted(s.name for _, s in pairs) == [
        "orchestration:fan_out", "orchestration:fan_out", "orchestration:hello_sequence",
        "orchestration:unhandled_failure",
    ]
    client, failed = next(p for p in pairs if p[1].name == "orchestration:unhandled_failure")
    assert failed.attributes["durabletask.task.status"] == "Failed"
    assert failed.error is not None and "cannot book" in failed.error
    assert client.error is not None and "cannot book" in client.error
    ((_, activity),) = tasks(spans, failed, "activity:always_fails")
    assert activity.error is not None and "cannot book" in activity.error
    assert activity.attributes["durabletask.task.status"] == "Failed"
    assert parent.error is None and {s.trace_id for s in spans if s.instance_id and
                                     s.instance_id.startswith(iid)} == {parent.trace_id}


async def test_retries_are_separate_spans(settings: TaskHubSettings) -> None:
    key = f"retry-{settings.extended_sessions_enabled}-{settings.hub_name}"
    async with running_hub(settings) as r:
        iid = await r.client.start_new("with_retry", client_input=key)
        assert (await wait_for_status(r.client, iid)).output == "ok after 3"
    spans = recorded(settings.hub_name)
    orchestration = one(spans, "orchestration:with_retry", iid)
    pairs = tasks(spans, orchestration, "activity:flaky")
    assert len(pairs) == 3
    assert len({c.attributes["durabletask.task.task_id"] for c, _ in pairs}) == 3
    for client, attempt in pairs:
        assert (client.error is None) == (attempt.error is None)
    assert sorted(a.error is not None for _, a in pairs) == [False, True, True]
    assert all("flaky failure" in (a.error or "flaky failure") for _, a in pairs)


async def test_timers_and_external_events_are_span_events(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        timer = await r.client.start_new("short_timer")
        waiting = await r.client.start_new("wait_event")
        await r.client.raise_event(waiting, "approval", {"ok": True})
        await wait_for_status(r.client, timer)
        await wait_for_status(r.client, waiting)
    spans = recorded(settings.hub_name)
    assert one(spans, "orchestration:short_timer", timer).events == ("timer",)
    receiver = one(spans, "orchestration:wait_event", waiting)
    assert receiver.events == ("event:approval",)
    # The client's send is a producer span the receiving orchestration's span links to.
    sent = [s for s in by_name(spans, "orchestration_event:approval")
            if s.attributes["durabletask.event.target_instance_id"] == waiting]
    assert len(sent) == 1 and sent[0].kind == "PRODUCER"
    assert receiver.links == (sent[0].span_id,)


async def test_http_start_continues_the_callers_traceparent(
    connection_string: str, hub_name: str
) -> None:
    in_memory_exporter()
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{caller_trace}-{caller_span}-01"}
    async with running(hub_name, connection_string) as env:
        resp = await call(env, "POST", "orchestrators/hello_sequence", headers=headers)
        assert resp.status_code == 202, resp.get_body()
        iid = str(json.loads(resp.get_body())["id"])
        await wait_for_status(env.client, iid)
    spans = recorded(hub_name)
    create = one(spans, "create_orchestration:hello_sequence", iid)
    assert (create.trace_id, create.parent_id) == (caller_trace, caller_span)
    orchestration = one(spans, "orchestration:hello_sequence", iid)
    assert orchestration.trace_id == caller_trace
    assert len(tasks(spans, orchestration, "activity:")) == 3


async def test_entity_operations_are_children_of_the_calling_orchestration(
    settings: TaskHubSettings,
) -> None:
    from tests.integration import entity_functions  # noqa: F401  (registers the entities)

    key = f"traced-{settings.extended_sessions_enabled}"
    async with running_hub(settings) as r:
        adder = await r.client.start_new("ent_add_twice", client_input=key)
        failing = await r.client.start_new("ent_call_failing", client_input=key + "-f")
        assert (await wait_for_status(r.client, adder)).output == 2
        assert (await wait_for_status(r.client, failing)).runtime_status is S.Completed
        # The signal's operation may run in a batch after the orchestration completed.
        await poll_until(lambda: _has_spans(settings.hub_name, "entity:tally:add", 2))
    spans = recorded(settings.hub_name)
    orchestration = one(spans, "orchestration:ent_add_twice", adder)
    ops = [s for s in by_name(spans, "entity:tally:add") if s.instance_id == f"@tally@{key}"]
    assert len(ops) == 2 and {s.parent_id for s in ops} == {orchestration.span_id}
    assert all(s.attributes["durabletask.entity.operation"] == "add" for s in ops)
    failed = one(spans, "entity:tally:fail_after_add", f"@tally@{key}-f")
    assert failed.error == "cannot add that"
    assert failed.parent_id == one(spans, "orchestration:ent_call_failing", failing).span_id


async def _has_spans(hub: str, name: str, count: int) -> bool:
    return len(by_name(recorded(hub), name)) >= count


async def test_a_terminated_instance_gets_its_span_once(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("wait_event")
        await wait_for_status(r.client, iid, (S.Running,))
        await r.client.terminate(iid, "no longer needed")
        assert (await wait_for_status(r.client, iid)).runtime_status is S.Terminated
    spans = recorded(settings.hub_name)
    orchestration = one(spans, "orchestration:wait_event", iid)
    assert orchestration.attributes["durabletask.task.status"] == "Terminated"
    assert orchestration.error is None
