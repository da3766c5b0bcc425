"""Client methods called with wrong types or empty values raise TypeError / ValueError naming
the argument, before anything reaches storage (the hub here fails the test if touched)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest

from durable.client import DurableOrchestrationClient
from durable.core.status import OrchestrationRuntimeStatus
from durable.storage.settings import TaskHubSettings


class UntouchableHub:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"storage was used ({name}) before the arguments were checked")


@pytest.fixture
def client() -> DurableOrchestrationClient:
    settings = TaskHubSettings(hub_name="BadInput", connection_string="UseDevelopmentStorage=true")
    return DurableOrchestrationClient(settings, UntouchableHub(),  # type: ignore[arg-type]
                                      check_function_names=False)


Call = Callable[[DurableOrchestrationClient], Awaitable[Any]]
NOW = datetime.now(UTC)
ASYNC_CASES: list[tuple[str, Call, type[Exception], str]] = [
    ("start_new name int", lambda c: c.start_new(123), TypeError,  # type: ignore[arg-type]
     "orchestration_function_name"),
    ("start_new name None", lambda c: c.start_new(None), TypeError,  # type: ignore[arg-type]
     "orchestration_function_name"),
    ("start_new name empty", lambda c: c.start_new(""), ValueError,
     "orchestration_function_name"),
    ("start_new id int", lambda c: c.start_new("o", 5), TypeError,  # type: ignore[arg-type]
     "instance_id"),
    ("start_new id blank", lambda c: c.start_new("o", "  "), ValueError, "instance_id"),
    ("start_new id slash", lambda c: c.start_new("o", "a/b"), ValueError, "instance_id"),
    ("start_new id long", lambda c: c.start_new("o", "x" * 257), ValueError, "instance_id"),
    ("start_new id control", lambda c: c.start_new("o", "a\nb"), ValueError, "instance_id"),
    ("start_new input", lambda c: c.start_new("o", "ok", object()), ValueError,
     "client_input"),
    ("get_status None", lambda c: c.get_status(None), TypeError,  # type: ignore[arg-type]
     "instance_id"),
    ("get_status empty", lambda c: c.get_status(""), ValueError, "instance_id"),
    ("get_status flag", lambda c: c.get_status("x", show_history="yes"),  # type: ignore[arg-type]
     TypeError, "show_history"),
    ("raise_event id", lambda c: c.raise_event(7, "go"), TypeError,  # type: ignore[arg-type]
     "instance_id"),
    ("raise_event name empty", lambda c: c.raise_event("x", ""), ValueError, "event_name"),
    ("raise_event name int", lambda c: c.raise_event("x", 5), TypeError,  # type: ignore[arg-type]
     "event_name"),
    ("raise_event data", lambda c: c.raise_event("x", "go", {1, 2}), ValueError,
     "event_data"),
    ("terminate id", lambda c: c.terminate(None), TypeError,  # type: ignore[arg-type]
     "instance_id"),
    ("terminate reason", lambda c: c.terminate("x", object()), TypeError,  # type: ignore[arg-type]
     "reason"),
    ("suspend id", lambda c: c.suspend(""), ValueError, "instance_id"),
    ("suspend reason", lambda c: c.suspend("x", 1), TypeError, "reason"),  # type: ignore[arg-type]
    ("resume id", lambda c: c.resume([]), TypeError, "instance_id"),  # type: ignore[arg-type]
    ("rewind reason", lambda c: c.rewind("x", 5), TypeError, "reason"),  # type: ignore[arg-type]
    ("restart id", lambda c: c.restart(None), TypeError,  # type: ignore[arg-type]
     "instance_id"),
    ("restart flag", lambda c: c.restart("x", "no"), TypeError,  # type: ignore[arg-type]
     "restart_with_new_instance_id"),
    ("purge id", lambda c: c.purge_instance_history(""), ValueError, "instance_id"),
    ("purge_by time", lambda c: c.purge_instance_history_by("2024-01-01"),  # type: ignore[arg-type]
     TypeError, "created_time_from"),
    ("get_status_by to", lambda c: c.get_status_by(NOW, 5), TypeError,  # type: ignore[arg-type]
     "created_time_to"),
    ("get_status_by status str",
     lambda c: c.get_status_by(runtime_status="Running"),  # type: ignore[arg-type]
     TypeError, "runtime_status"),
    ("get_status_by status names",
     lambda c: c.get_status_by(runtime_status=["Running"]),  # type: ignore[list-item]
     TypeError, "runtime_status"),
    ("page size str", lambda c: c.get_status_page(page_size="10"),  # type: ignore[arg-type]
     TypeError, "page_size"),
    ("page size zero", lambda c: c.get_status_page(page_size=0), ValueError, "page_size"),
    ("page prefix", lambda c: c.get_status_page(instance_id_prefix=1),  # type: ignore[arg-type]
     TypeError, "instance_id_prefix"),
    ("page token", lambda c: c.get_status_page(continuation_token=b"x"),  # type: ignore[arg-type]
     TypeError, "continuation_token"),
    ("wait timeout", lambda c: c.wait_for_final_status("x", "5", 1),  # type: ignore[arg-type]
     TypeError, "timeout_s"),
    ("wait interval", lambda c: c.wait_for_final_status("x", 5, -1), ValueError, "interval_s"),
    ("wait nan", lambda c: c.wait_for_final_status("x", float("nan"), 1), ValueError,
     "timeout_s"),
    ("wait_or_check timeout", lambda c: c.wait_for_completion_or_create_check_status_response(
        func.HttpRequest("GET", "http://h/x", body=b""), "x", "10"),  # type: ignore[arg-type]
     TypeError, "timeout_in_milliseconds"),
]


@pytest.mark.parametrize(("case", "call", "error", "argument"), ASYNC_CASES,
                         ids=[c[0] for c in ASYNC_CASES])
async def test_bad_argument_is_named(
    client: DurableOrchestrationClient, case: str, call: Call, error: type[Exception],
    argument: str,
) -> None:
    with pytest.raises(error, match=argument):
        await call(client)


def test_http_helpers_check_their_arguments(client: DurableOrchestrationClient) -> None:
    request = func.HttpRequest("POST", "http://localhost:7071/api/start", body=b"")
    with pytest.raises(TypeError, match="request"):
        client.create_check_status_response("http://x", "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="request"):
        client.get_client_response_links(object(), "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="instance_id"):
        client.create_check_status_response(request, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="instance_id"):
        client.create_http_management_payload("")
    with pytest.raises(TypeError, match="instance_id"):
        client.create_http_management_payload(None)  # type: ignore[arg-type]


def test_valid_statuses_pass_the_check(client: DurableOrchestrationClient) -> None:
    """The check is not stricter than the API: a tuple of statuses is fine, and then the
    call goes on to storage (which this hub refuses)."""
    with pytest.raises(AssertionError, match="storage was used"):
        import asyncio

        asyncio.run(client.get_status_by(NOW, None, [OrchestrationRuntimeStatus.Running]))
