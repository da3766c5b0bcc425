"""What the host exposes: it listens on 127.0.0.1 unless `--host` says otherwise, and the
storage account key never shows in its output (verbose included) or in an HTTP answer, even
when the request or the configuration is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import DEV_CONNECTION_STRING
from tests.e2e.conftest import ROOT, HostProcess, free_port, host_command, host_env

pytestmark = pytest.mark.slow

ACCOUNT_KEY = DEV_CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]
API = "runtime/webhooks/durabletask"


def run_to_exit(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the host where it must fail at start-up."""
    return subprocess.run(host_command("chaos_app", free_port(), *extra), cwd=ROOT,
                          env=host_env(env), capture_output=True, text=True, timeout=60)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            if len(address) == 8:
                found.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
            else:
                found.add("::" if set(address) == {"0"} else address)
    return found


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/net")


@linux_only
def test_listens_on_loopback_by_default(hub_name: str, azurite: str) -> None:
    host = HostProcess("chaos_app", {"TEST_HUB_NAME": hub_name, "AzureWebJobsStorage": azurite})
    try:
        host.wait_ready()
        assert listening_addresses(host.port) == {"127.0.0.1"}
    finally:
        assert host.stop() == 0


@linux_only
def test_host_option_widens_it(hub_name: str, azurite: str) -> None:
    host = HostProcess("chaos_app", {"TEST_HUB_NAME": hub_name, "AzureWebJobsStorage": azurite},
                       "--host", "0.0.0.0")
    try:
        host.wait_ready()
        assert listening_addresses(host.port) == {"0.0.0.0"}
        assert requests.get(host.url(f"{API}/instances"), timeout=30).status_code == 200
    finally:
        assert host.stop() == 0


def test_host_option_rejects_an_address_that_is_not_ours() -> None:
    result = run_to_exit({"TEST_HUB_NAME": "keys", "AzureWebJobsStorage": DEV_CONNECTION_STRING},
                         "--host", "203.0.113.9")
    assert result.returncode != 0
    assert "Cannot listen on 203.0.113.9" in result.stderr and "--host" in result.stderr


def test_account_key_is_never_logged_or_returned(hub_name: str, azurite: str) -> None:
    unreachable = DEV_CONNECTION_STRING.replace("127.0.0.1:1000", "127.0.0.1:9")
    env = {"TEST_HUB_NAME": hub_name, "AzureWebJobsStorage": azurite,
           "UnreachableStorage": unreachable}
    host = HostProcess("chaos_app", env, "--verbose")
    bodies: list[str] = []
    try:
        host.wait_ready()
        for method, path in [
            ("GET", f"{API}/instances/nobody"),
            ("GET", f"{API}/instances?connection=UnreachableStorage"),
            ("GET", f"{API}/instances/x?connection=UnreachableStorage&taskHub=Other"),
            ("POST", f"{API}/orchestrators/chain?connection=UnreachableStorage"),
            ("GET", f"{API}/instances?connection=NoSuchSetting"),
            ("GET", f"{API}/instances?taskHub=not-valid!"),
            ("POST", f"{API}/orchestrators/nope"),
            ("POST", "api/start/nope"),
            ("POST", "api/start/chain?id=a/b"),
        ]:
            resp = requests.request(method, host.url(path), timeout=60)
            bodies.append(resp.text)
            assert resp.status_code < 500 or resp.status_code == 503, (path, resp.text)
        ok = requests.post(host.url("api/start/chain"), timeout=30)
        assert ok.status_code == 202
        bodies.append(ok.text)
    finally:
        assert host.stop() == 0
    assert any("unreachable at http://127.0.0.1:9" in b for b in bodies)
    for text in [*bodies, host.output]:
        assert ACCOUNT_KEY not in text
        assert ACCOUNT_KEY[:16] not in text


@pytest.mark.parametrize("connection", [
    DEV_CONNECTION_STRING.replace("AccountKey=", "AccountKey:"),
    DEV_CONNECTION_STRING.replace("AccountKey=", "").replace("==;", ";"),
    DEV_CONNECTION_STRING.replace("127.0.0.1:1000", "127.0.0.1:9"),
], ids=["key without '='", "bare key", "unreachable"])
def test_bad_connection_strings_fail_at_start_without_the_key(connection: str) -> None:
    result = run_to_exit({"TEST_HUB_NAME": "keys", "AzureWebJobsStorage": connection})
    assert result.returncode != 0
    assert "Error:" in result.stderr and "AzureWebJobsStorage" in result.stderr
    assert "Traceback" not in result.stderr
    for text in (result.stdout, result.stderr):
        assert ACCOUNT_KEY[:16] not in text
