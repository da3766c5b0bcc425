"""HTTP triggers through a running host (tests/apps/http_app), one host for the module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import HostProcess, running_host

pytestmark = pytest.mark.azurite


@pytest.fixture(scope="module")
def host(azurite: str) -> Iterator[HostProcess]:
    with running_host("http_app") as process:
        yield process
        code = process.stop()
    assert code == 0, process.output


def test_listing_shows_every_function_with_methods_and_urls(host: HostProcess) -> None:
    out = host.output
    assert f"hello: [GET,POST] http://localhost:{host.port}/api/hello" in out
    assert "items/{id:int}" in out
    assert f"bp_ping: [GET] http://localhost:{host.port}/api/bp/ping" in out
    assert f"renamed_function: http://localhost:{host.port}/api/renamed" in out
    assert f"webhook: [GET] http://localhost:{host.port}/runtime/webhooks/sample/{{id}}" in out


def test_response_body_status_and_app_settings(host: HostProcess) -> None:
    response = requests.get(host.url("api/hello"), params={"name": "Ada"}, timeout=10)
    assert response.status_code == 200
    assert response.text == "Hello, Ada!"  # GREETING comes from local.settings.json Values
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_invocations_are_logged_with_id_outcome_and_user_logs(host: HostProcess) -> None:
    mark = host.mark()
    requests.post(host.url("api/hello"), timeout=10)
    executing = host.wait_for(r"Executing 'Functions.hello' \(Reason='.+', Id=", after=mark)
    invocation_id = executing.rsplit("Id=", 1)[1].rstrip(")")
    host.wait_for(r"Functions.hello: hello was called", after=mark)
    host.wait_for(
        rf"Executed 'Functions.hello' \(Succeeded, Id={invocation_id}, Duration=\d+ms\)",
        after=mark,
    )


def test_plain_string_return_becomes_text_plain(host: HostProcess) -> None:
    response = requests.get(host.url("api/plain"), timeout=10)
    assert (response.status_code, response.text) == (200, "plain text")
    assert response.headers["Content-Type"].startswith("text/plain")


def test_unsupported_return_type_fails_like_the_worker(host: HostProcess) -> None:
    mark = host.mark()
    response = requests.get(host.url("api/returns-dict"), timeout=10)
    assert response.status_code == 500
    host.wait_for(r"Executed 'Functions.returns_dict' \(Failed, Id=", after=mark)
    host.wait_for(r"unable to encode outgoing TypedData", after=mark)


def test_exception_gives_500_and_logs_the_app_traceback(host: HostProcess) -> None:
    mark = host.mark()
    assert requests.get(host.url("api/fails"), timeout=10).status_code == 500
    host.wait_for(r"RuntimeError: this function always fails", after=mark)
    host.wait_for(r'File ".*function_app.py", line \d+, in fails', after=mark)


def test_status_code_headers_and_mimetype(host: HostProcess) -> None:
    response = requests.get(host.url("api/status/201"), timeout=10)
    assert response.status_code == 201
    assert response.headers["X-Custom"] == "yes"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == "custom"


def test_async_handler_gets_method_query_headers_and_json(host: HostProcess) -> None:
    response = requests.put(
        host.url("api/echo?a=1&b=two"), json={"x": [1, 2]},
        headers={"X-Test-Header": "hi"}, timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["method"] == "PUT"
    assert body["params"] == {"a": "1", "b": "two"}
    assert body["header"] == "hi"
    assert body["json"] == {"x": [1, 2]}
    assert body["url"].endswith("/api/echo?a=1&b=two")
    assert body["thread"] == "MainThread"  # async functions run on the event loop


def test_sync_handler_runs_on_the_thread_pool(host: HostProcess) -> None:
    body = requests.get(host.url("api/sync-thread"), timeout=10).json()
    assert body["thread"].startswith("func")


def test_constraints_pick_the_route(host: HostProcess) -> None:
    by_id = requests.get(host.url("api/items/42"), timeout=10).json()
    by_name = requests.get(host.url("api/items/apples"), timeout=10).json()
    assert by_id == {"kind": "int", "route": {"id": "42"}}
    assert by_name == {"kind": "alpha", "route": {"name": "apples"}}
    assert requests.get(host.url("api/items/a1"), timeout=10).status_code == 404
    too_big = requests.get(host.url("api/items/99999999999"), timeout=10)
    assert too_big.status_code == 404  # not an int32, and not alpha


def test_typed_constraints(host: HostProcess) -> None:
    guid = str(uuid.uuid4())
    path = f"api/typed/{guid}/true/9000000000/2.5/2024-02-29T10:00:00"
    assert requests.get(host.url(path), timeout=10).json() == {
        "g": guid, "b": "true", "n": "9000000000", "d": "2.5", "when": "2024-02-29T10:00:00",
    }
    bad = "api/typed/not-a-guid/true/1/2.5/2024-02-29"
    assert requests.get(host.url(bad), timeout=10).status_code == 404
    assert requests.get(host.url(f"api/typed/{guid}/maybe/1/2.5/2024-02-29"),
                        timeout=10).status_code == 404


def test_optional_parameter(host: HostProcess) -> None:
    assert requests.get(host.url("api/optional/books"), timeout=10).json() == {
        "category": "books"
    }
    assert requests.get(host.url("api/optional/books/3"), timeout=10).json() == {
        "category": "books", "page": "3",
    }
    assert requests.get(host.url("api/optional/books/x"), timeout=10).status_code == 404


def test_catch_all_and_percent_decoding(host: HostProcess) -> None:
    body = requests.get(host.url("api/files/a/b%20c/d.txt"), timeout=10).json()
    assert body == {"path": "a/b c/d.txt"}


def test_literals_match_case_insensitively_and_trailing_slash(host: HostProcess) -> None:
    assert requests.get(host.url("API/Plain/"), timeout=10).text == "plain text"


def test_wrong_method_is_405_with_allow(host: HostProcess) -> None:
    response = requests.post(host.url("api/items/5"), timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET"
    assert requests.delete(host.url("api/items/5"), timeout=10).status_code == 204


def test_unknown_path_is_404(host: HostProcess) -> None:
    assert requests.get(host.url("api/nothing-here"), timeout=10).status_code == 404
    assert requests.get(host.url("hello"), timeout=10).status_code == 404  # needs the prefix


def test_blueprint_and_function_name(host: HostProcess) -> None:
    assert requests.get(host.url("api/bp/ping"), timeout=10).text == "pong from blueprint"
    assert requests.get(host.url("api/renamed"), timeout=10).text == "renamed"


def test_webhook_routes_are_served_with_and_without_prefix(host: HostProcess) -> None:
    assert requests.get(host.url("runtime/webhooks/sample/7"), timeout=10).json() == {"id": "7"}
    assert requests.get(host.url("api/runtime/webhooks/sample/8"), timeout=10).json() == {
        "id": "8"
    }


def test_cors_from_local_settings(host: HostProcess) -> None:
    allowed = requests.get(host.url("api/plain"), headers={"Origin": "http://allowed.example"},
                           timeout=10)
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://allowed.example"
    other = requests.get(host.url("api/plain"), headers={"Origin": "http://other.example"},
                         timeout=10)
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = requests.options(
        host.url("api/echo"),
        headers={"Origin": "http://allowed.example", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"
