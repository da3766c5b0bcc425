"""Start-up errors: each deliberately broken app in tests/apps/ makes the host exit non-zero
with a message on stderr that says what is wrong and where."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import DEV_CONNECTION_STRING
from tests.e2e.conftest import APPS, free_port, run_to_exit

pytestmark = pytest.mark.azurite


def failed(app: str, **kwargs: object) -> str:
    result = run_to_exit(app, **kwargs)  # type: ignore[arg-type]
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Host started" not in result.stdout
    assert "0 functions" not in result.stdout + result.stderr
    return result.stderr


def test_missing_function_app_names_the_folder() -> None:
    err = failed("broken_missing_script")
    assert f"No function_app.py in {APPS / 'broken_missing_script'}" in err


def test_syntax_error_shows_file_line_and_error() -> None:
    err = failed("broken_syntax")
    assert f'File "{APPS / "broken_syntax" / "function_app.py"}", line 9' in err
    assert "SyntaxError: expected ':'" in err


def test_import_error_shows_the_app_traceback() -> None:
    err = failed("broken_import")
    assert "Traceback (most recent call last):" in err
    assert 'broken_import/function_app.py", line 5, in <module>' in err
    assert 'broken_import/helpers.py", line 4, in <module>' in err
    assert "KeyError: 'missing_key'" in err
    assert "emulator/" not in err  # the host's own frames are left out


def test_two_apps_in_one_module() -> None:
    err = failed("broken_two_apps")
    assert "defines more than one function app ('app', 'other_app')" in err


def test_no_function_app() -> None:
    err = failed("broken_no_app")
    assert "defines no FunctionApp instance" in err
    assert "Blueprints (bp) must be registered" in err


def test_host_json_syntax_error_has_the_line() -> None:
    err = failed("broken_host_json")
    assert "host.json is not valid JSON" in err
    assert "line 4, column 33" in err


def test_host_json_invalid_value_names_the_key() -> None:
    err = failed("broken_host_value")
    assert "extensions.queues.batchSize must be an integer from 1 to 32, got 'lots'" in err


def test_duplicate_function_name() -> None:
    err = failed("broken_duplicate")
    assert "Function handler does not have a unique function name" in err


def test_unknown_route_constraint() -> None:
    err = failed("broken_route")
    assert "Function 'item'" in err
    assert "unknown route constraint 'integer'" in err


def test_invalid_timer_schedule() -> None:
    err = failed("broken_schedule")
    assert "Function 'tick' (timerTrigger)" in err
    assert "invalid hour field '25'" in err


def test_parameter_without_binding() -> None:
    err = failed("broken_unbound_param")
    assert "parameter(s) 'extra' are not bound" in err


def test_port_in_use_names_the_port(azurite: str) -> None:
    port = free_port()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        err = failed("http_app", port=port)
    assert f"Port {port} is unavailable" in err
    assert "--port" in err


def test_unreachable_storage_names_the_endpoint() -> None:
    closed = free_port()
    connection = DEV_CONNECTION_STRING.replace("127.0.0.1:10001", f"127.0.0.1:{closed}")
    err = failed("queue_app", env={"AzureWebJobsStorage": connection})
    assert f"Cannot reach the queue endpoint http://127.0.0.1:{closed}/devstoreaccount1" in err
    assert "connection 'AzureWebJobsStorage'" in err
    assert "Azurite" in err


def test_missing_storage_setting_for_a_queue_trigger() -> None:
    err = failed("queue_app", env={"AzureWebJobsStorage": ""})
    assert "The storage connection 'AzureWebJobsStorage' is not set" in err
