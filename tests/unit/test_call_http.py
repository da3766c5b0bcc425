"""call_http in the pure core: the request it records, content serialization as the SDK
does it, the asynchronous pattern on durable timers, failures and determinism."""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import pytest

import durable as df
from durable.core import DurableOrchestrationContext, OrchestrationStatus
from durable.core import events as ev
from durable.core.actions import ACTION_KINDS, HTTP_ACTIVITY_NAME, CallHttp, CreateTimer
from durable.core.history import FailureDetails, HistoryEvent
from durable.core.http import DurableHttpRequest, DurableHttpResponse, http_content
from durable.core.replay import OrchestrationSession
from durable.errors import (
    HttpConnectionError,
    HttpTimeoutError,
    InvalidHttpRequestError,
    TaskFailedError,
    TokenAcquisitionError,
)
from tests.support.harness import T0, Harness, kinds

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext
URI = "https://api.example.com/orders"


def response(status: int, headers: dict[str, Any] | None = None, content: str = "") -> str:
    return json.dumps({"statusCode": status, "headers": headers or {}, "content": content})


def answered(h: Harness, task_id: int, text: str) -> HistoryEvent:
    return ev.task_completed(h.now, task_scheduled_id=task_id, result=text)


def request_of(action: Any) -> dict[str, Any]:
    assert isinstance(action, CallHttp)
    data = json.loads(action.input or "")
    assert isinstance(data, list) and len(data) == 1  # Durable Task's parameter array
    return dict(data[0])


def get_once(ctx: Ctx) -> Gen:
    r = yield ctx.call_http("GET", URI)
    return {"status": r.status_code, "sdk": r["statusCode"], "content": r.content,
            "type": r.header("content-type")}


# --- the request and its serialization ---------------------------------------------------


def test_get_is_a_builtin_http_activity_with_the_extensions_request_json() -> None:
    h = Harness(get_once)
    action = h.start().actions[0]
    assert isinstance(action, CallHttp) and action.name == HTTP_ACTIVITY_NAME
    assert request_of(action) == {
        "method": "GET", "uri": URI, "headers": {}, "content": None, "tokenSource": None,
        "asynchronousPatternEnabled": True, "timeout": None,
    }
    scheduled = h.named(HTTP_ACTIVITY_NAME)
    assert [e.event_type.name for e in scheduled] == ["TaskScheduled"]


def test_a_response_is_the_sdks_dict_and_has_attributes() -> None:
    h = Harness(get_once)
    h.start()
    text = response(200, {"Content-Type": "text/plain"}, "ok")
    result = h.run(answered(h, 0, text))
    assert result.status is OrchestrationStatus.Completed
    assert json.loads(result.output or "") == {
        "status": 200, "sdk": 200, "content": "ok", "type": "text/plain"
    }


@pytest.mark.parametrize(
    ("content", "is_raw_str", "sent"),
    [
        ({"a": 1}, False, '{"a": 1}'),
        ([1, 2], False, "[1, 2]"),
        ("text", False, '"text"'),  # the SDK json.dumps a str too, unless is_raw_str
        ("a=1&b=2", True, "a=1&b=2"),
        (None, False, None),
        (0, False, "0"),
    ],
)
def test_content_is_serialized_as_the_sdk_does(content: Any, is_raw_str: bool, sent: Any) -> None:
    assert http_content(content, is_raw_str) == sent


def test_is_raw_str_with_content_that_is_not_a_str_raises_type_error_at_the_call() -> None:
    with pytest.raises(TypeError, match="is_raw_str"):
        http_content({"a": 1}, True)


def test_post_with_body_headers_and_token_source_is_recorded() -> None:
    source = df.ManagedIdentityTokenSource("https://management.core.windows.net/")

    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_http("POST", URI, {"id": 7}, {"X-Trace": "t1"}, source,
                            timeout=timedelta(seconds=90))

    request = request_of(Harness(orch).start().actions[0])
    assert request["method"] == "POST" and request["content"] == '{"id": 7}'
    assert request["headers"] == {"X-Trace": "t1"}
    assert request["tokenSource"] == {"resource": "https://management.core.windows.net/",
                                      "kind": "AzureManagedIdentity"}
    assert request["timeout"] == "00:01:30"
    again = DurableHttpRequest.from_json(request)
    assert again.token_source == source and again.timeout == timedelta(seconds=90)
    assert again.to_json() == request


@pytest.mark.parametrize(
    ("method", "uri", "argument"),
    [
        ("GE T", URI, "method"),
        ("", URI, "method"),
        (None, URI, "method"),
        ("GET", "not a uri", "uri"),
        ("GET", "/relative/path", "uri"),
        ("GET", "ftp://example.com/file", "uri"),
        ("GET", "http://", "uri"),
        ("GET", "http://host:notaport/", "uri"),
        ("GET", 42, "uri"),
    ],
)
def test_bad_method_or_uri_fails_the_orchestration_with_the_argument_named(
    method: Any, uri: Any, argument: str
) -> None:
    def orch(ctx: Ctx) -> Gen:
        yield ctx.call_http(method, uri)

    result = Harness(orch).start()
    assert result.status is OrchestrationStatus.Failed
    details = result.failure_details
    assert details is not None and details.error_type == "InvalidHttpRequestError"
    assert f"call_http {argument} must be" in details.error_message
    assert result.actions == []


def test_bad_method_raises_a_value_error_the_orchestrator_may_catch() -> None:
    def orch(ctx: Ctx) -> Gen:
        try:
            ctx.call_http("BAD METHOD", URI)
        except ValueError as exc:
            return isinstance(exc, InvalidHttpRequestError)
        yield ctx.call_http("GET", URI)

    result = Harness(orch).start()
    assert result.output == "true"


def test_bad_headers_are_refused_at_the_call() -> None:
    with pytest.raises(InvalidHttpRequestError, match="header"):
        DurableHttpRequest("GET", URI, headers={"Bad Name": "x"})
    with pytest.raises(InvalidHttpRequestError, match="header"):
        DurableHttpRequest("GET", URI, headers={"X-Number": 3})  # type: ignore[dict-item]


def test_managed_identity_token_source_needs_a_resource() -> None:
    with pytest.raises(ValueError, match="resource"):
        df.ManagedIdentityTokenSource("")
    assert df.ManagedIdentityTokenSource("https://vault.azure.net").to_json() == {
        "resource": "https://vault.azure.net", "kind": "AzureManagedIdentity"
    }


# --- status codes and the asynchronous pattern ------------------------------------------


def test_a_500_is_a_result_not_an_exception() -> None:
    h = Harness(get_once)
    h.start()
    result = h.run(answered(h, 0, response(500, {}, "broken")))
    assert result.status is OrchestrationStatus.Completed
    assert json.loads(result.output or "")["status"] == 500


def polling(ctx: Ctx) -> Gen:
    r = yield ctx.call_http("POST", URI, {"job": 1}, {"x-functions-key": "k", "X-A": "1"})
    return [r.status_code, r.content]


def test_202_with_location_polls_on_durable_timers_until_another_status() -> None:
    h = Harness(polling)
    h.start()
    accepted = response(202, {"Location": "/jobs/1", "Retry-After": "5"})
    created = h.run(answered(h, 0, accepted)).actions
    assert len(created) == 1 and isinstance(created[0], CreateTimer)
    assert created[0].fire_at == h.history[-2].timestamp + timedelta(seconds=5)
    poll = h.run(h.fired(1)).actions[0]
    request = request_of(poll)
    # The poll is a GET of the Location (resolved against the request), without the
    # function key, with the other headers.
    assert (request["method"], request["uri"]) == ("GET", "https://api.example.com/jobs/1")
    assert request["headers"] == {"X-A": "1"} and request["content"] is None
    still = h.run(answered(h, 2, response(202, {"location": "/jobs/1"}))).actions
    assert isinstance(still[0], CreateTimer)
    h.run(h.fired(3))
    done = h.run(answered(h, 4, response(200, {}, "finished")))
    assert done.status is OrchestrationStatus.Completed
    assert json.loads(done.output or "") == [200, "finished"]
    assert kinds(h.history).count("TimerCreated") == 2
    assert len(h.named(HTTP_ACTIVITY_NAME)) == 3


def test_202_without_retry_after_waits_the_default_interval() -> None:
    h = Harness(polling)
    h.start()
    timer = h.run(answered(h, 0, response(202, {"Location": "https://other/s"}))).actions[0]
    assert isinstance(timer, CreateTimer)
    assert timer.fire_at - h.history[-2].timestamp == timedelta(seconds=30)


def test_the_default_interval_comes_from_the_session() -> None:
    session = OrchestrationSession(polling, "i1", http_poll_interval=timedelta(seconds=2))
    now = T0
    started = ev.execution_started(now, name="polling", instance_id="i1", input=None,
                                   execution_id="e1")
    first = session.apply([started], now)
    done = ev.task_completed(now, task_scheduled_id=0,
                             result=response(202, {"Location": "https://other/s"}))
    timer = session.apply([done], now).actions[0]
    assert first.actions and isinstance(timer, CreateTimer)
    assert timer.fire_at - now == timedelta(seconds=2)


def test_202_is_the_result_when_the_asynchronous_pattern_is_off_or_no_location() -> None:
    def no_polling(ctx: Ctx) -> Gen:
        r = yield ctx.call_http("GET", URI, asynchronous_pattern_enabled=False)
        s = yield ctx.call_http("GET", URI)
        return [r.status_code, s.status_code]

    h = Harness(no_polling)
    h.start()
    h.run(answered(h, 0, response(202, {"Location": "/x"})))
    result = h.run(answered(h, 1, response(202)))
    assert json.loads(result.output or "") == [202, 202]


# --- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [HttpConnectionError, HttpTimeoutError, TokenAcquisitionError]
)
def test_a_request_without_response_raises_its_specific_error(error: type[Exception]) -> None:
    def orch(ctx: Ctx) -> Gen:
        try:
            yield ctx.call_http("GET", URI)
        except error as exc:
            assert isinstance(exc, TaskFailedError)
            return f"caught {type(exc).__name__}: {exc}"
        return "no error"

    h = Harness(orch)
    h.start()
    details = FailureDetails(error.__name__, "no luck", "stack")
    result = h.run(ev.task_failed(h.now, task_scheduled_id=0, failure_details=details))
    assert json.loads(result.output or "") == f"caught {error.__name__}: no luck"


def test_an_unreadable_result_fails_the_task() -> None:
    h = Harness(get_once)
    h.start()
    result = h.run(answered(h, 0, '"not a response"'))
    assert result.status is OrchestrationStatus.Failed
    assert "not an HTTP response" in (result.output or "")


# --- replay and determinism ----------------------------------------------------------------


def test_replay_takes_the_response_from_history_and_schedules_nothing_again() -> None:
    h = Harness(polling)
    h.start()
    h.run(answered(h, 0, response(202, {"Location": "/jobs/1", "Retry-After": "1"})))
    h.run(h.fired(1))
    replayed = h.replay()
    assert replayed.actions == [] and replayed.status is OrchestrationStatus.Running


@pytest.mark.parametrize(
    ("method", "uri"), [("PUT", URI), ("POST", URI + "/other")]
)
def test_a_changed_method_or_uri_on_replay_is_non_deterministic(method: str, uri: str) -> None:
    h = Harness(polling)
    h.start()

    def changed(ctx: Ctx) -> Gen:
        return (yield ctx.call_http(method, uri, {"job": 1}))

    result = h.replay(changed)
    details = result.failure_details
    assert result.status is OrchestrationStatus.Failed and details is not None
    assert details.error_type == "NonDeterminismError"
    assert f"call_http POST {URI}" in details.error_message
    assert f"call_http {method} {uri}" in details.error_message


def test_call_http_and_call_activity_do_not_match_each_other() -> None:
    h = Harness(get_once)
    h.start()

    def activity(ctx: Ctx) -> Gen:
        return (yield ctx.call_activity(HTTP_ACTIVITY_NAME, None))

    result = h.replay(activity)
    assert result.failure_details is not None
    assert result.failure_details.error_type == "NonDeterminismError"


def test_the_method_compares_case_insensitively() -> None:
    h = Harness(get_once)
    h.start()

    def lower(ctx: Ctx) -> Gen:
        return (yield ctx.call_http("get", URI))

    assert h.replay(lower).status is OrchestrationStatus.Running


def test_the_recorded_event_gives_back_the_action_for_the_outbox() -> None:
    h = Harness(get_once)
    h.start()
    scheduled = h.named(HTTP_ACTIVITY_NAME)[0]
    action = ACTION_KINDS.from_event(scheduled)
    assert isinstance(action, CallHttp) and (action.method, action.uri) == ("GET", URI)


def test_response_json_round_trips() -> None:
    r = DurableHttpResponse(201, {"Set-Cookie": ["a", "b"]}, "x")
    assert DurableHttpResponse.from_json(json.dumps(r)) == r
    assert r.header("set-cookie") == "a" and r.to_json()["statusCode"] == 201


# --- durable.testing ---------------------------------------------------------------------


def test_run_orchestrator_answers_call_http_with_a_handler_and_polls() -> None:
    from durable.testing import run_orchestrator

    asked: list[tuple[str, str]] = []

    def handler(request: DurableHttpRequest) -> DurableHttpResponse:
        asked.append((request.method, request.uri))
        if request.method == "POST":
            return DurableHttpResponse(202, {"Location": "/status", "Retry-After": "60"})
        return DurableHttpResponse(200, {}, "ready")

    run = run_orchestrator(polling, activities={HTTP_ACTIVITY_NAME: handler})
    assert run.output == [200, "ready"]
    assert asked == [("POST", URI), ("GET", "https://api.example.com/status")]
    assert run.finished_at - run.started_at == timedelta(seconds=60)


def test_run_orchestrator_without_a_handler_says_how_to_give_one() -> None:
    from durable.testing import run_orchestrator

    with pytest.raises(ValueError, match="BuiltIn::HttpActivity': handler"):
        run_orchestrator(get_once)


# --- host.json -----------------------------------------------------------------------------


def _settings(http: dict[str, Any]) -> Any:
    from durable.storage.settings import TaskHubSettings

    host = {"extensions": {"durableTask": {"httpSettings": http}}}
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    return TaskHubSettings.from_host_json(host, env)


def test_host_json_http_settings_set_the_polling_interval() -> None:
    assert _settings({}).http_default_async_request_sleep == timedelta(seconds=30)
    settings = _settings({"defaultAsyncRequestSleepTimeMilliseconds": 1500})
    assert settings.http_default_async_request_sleep == timedelta(milliseconds=1500)
    with pytest.raises(ValueError, match="defaultAsyncRequestSleepTimeMilliseconds"):
        _settings({"defaultAsyncRequestSleepTimeMilliseconds": "soon"})


def test_token_scopes_follow_the_resource() -> None:
    from durable.runtime.tokens import scope_of

    assert scope_of("https://management.core.windows.net/") == (
        "https://management.core.windows.net/.default"
    )
    assert scope_of("https://vault.azure.net") == "https://vault.azure.net/.default"
    assert scope_of("api://my-app/.default") == "api://my-app/.default"


def test_call_http_fans_out_with_task_all_and_races_a_timer_with_task_any() -> None:
    def orch(ctx: Ctx) -> Gen:
        calls = [ctx.call_http("GET", f"{URI}/{n}") for n in (1, 2)]
        both = yield ctx.task_all(calls)
        deadline = ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=5))
        slow = ctx.call_http("GET", f"{URI}/3")
        winner = yield ctx.task_any([slow, deadline])
        return [r.content for r in both] + ["timer" if winner is deadline else "http"]

    h = Harness(orch)
    first = h.start().actions
    assert [request_of(a)["uri"] for a in first] == [f"{URI}/1", f"{URI}/2"]
    h.run(answered(h, 0, response(200, {}, "a")), answered(h, 1, response(200, {}, "b")))
    # Numbered when yielded, children in order (the SDK's rule): the request, then the timer.
    assert [type(a).__name__ for a in h.results[-1].actions] == ["CallHttp", "CreateTimer"]
    result = h.run(h.fired(3))
    assert json.loads(result.output or "") == ["a", "b", "timer"]
