"""Reload on change (tests/apps/reload_app, copied to a temporary folder and edited while the
host runs): the next request gets the new code, a broken file leaves the last good version
serving until it is fixed, a request running during a reload finishes on the old version,
and helper modules and local.settings.json count as changes too."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import APPS, HostProcess

pytestmark = pytest.mark.azurite
RELOADED = r"Reload complete\."


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    target = tmp_path / "reload_app"
    shutil.copytree(APPS / "reload_app", target)
    return target


@pytest.fixture
def host(app_dir: Path) -> Iterator[HostProcess]:
    process = HostProcess(str(app_dir))
    try:
        process.wait_ready()
        yield process
    finally:
        assert process.stop() == 0, process.output


def get(host: HostProcess, path: str = "api/value") -> str:
    response = requests.get(host.url(path), timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_edit_reloads_and_a_broken_file_keeps_the_last_good_version(
    host: HostProcess, app_dir: Path
) -> None:
    script = app_dir / "function_app.py"
    assert get(host) == "one! hello"
    mark = host.mark()
    edit(script, 'VALUE = "one"', 'VALUE = "second"')
    host.wait_for(r"File change of type 'Changed' detected for 'function_app\.py'\.", after=mark)
    host.wait_for(RELOADED, after=mark)
    assert get(host) == "second! hello"

    mark = host.mark()
    edit(script, "def value(req", "def value(req broken")
    host.wait_for(r"The changed app failed to load \(the error is above\): the previous "
                  r"version goes on serving", after=mark)
    host.wait_for(r"SyntaxError", after=mark)
    assert get(host) == "second! hello"

    mark = host.mark()
    edit(script, "def value(req broken", "def value(req")
    edit(script, 'VALUE = "second"', 'VALUE = "third!"')
    host.wait_for(RELOADED, after=mark)
    assert get(host) == "third!! hello"


def test_running_request_finishes_on_the_old_version(host: HostProcess, app_dir: Path) -> None:
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(get, host, "api/slow?seconds=2")
        host.wait_for(r"Executing 'Functions.slow'")
        mark = host.mark()
        edit(app_dir / "function_app.py", 'VALUE = "one"', 'VALUE = "newer"')
        host.wait_for(r"The new version loaded; stopping the previous one", after=mark)
        assert pending.result() == "slow one"
    host.wait_for(RELOADED, after=mark)
    assert get(host) == "newer! hello"


def test_helper_modules_and_settings_reload_too(host: HostProcess, app_dir: Path) -> None:
    mark = host.mark()
    edit(app_dir / "helpers.py", 'SUFFIX = "!"', 'SUFFIX = "?!"')
    host.wait_for(RELOADED, after=mark)
    assert get(host) == "one?! hello"
    mark = host.mark()
    edit(app_dir / "local.settings.json", '"GREETING": "hello"', '"GREETING": "welcome"')
    host.wait_for(r"detected for 'local\.settings\.json'", after=mark)
    host.wait_for(RELOADED, after=mark)
    assert get(host) == "one?! welcome"


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_the_app_runs_in_a_child_of_the_reloader(host: HostProcess) -> None:
    assert len(children(host.process.pid)) == 1


def test_no_reload_runs_the_host_in_one_process_and_functions_filters(app_dir: Path) -> None:
    process = HostProcess(str(app_dir), None, "--no-reload", "--functions", "val*")
    try:
        process.wait_ready()
        assert children(process.process.pid) == []
        assert get(process) == "one! hello"
        assert "\tvalue: [GET]" in process.output and "\tother:" not in process.output
        assert requests.get(process.url("api/other"), timeout=10).status_code == 404
    finally:
        assert process.stop() == 0, process.output
