"""Shared fixtures: a real Azurite (reused when one listens, started otherwise) and a fresh
task hub name per test so tests never see each other's data.

The tiers are folders: `tests/unit` is pure (no Azurite, no subprocess, milliseconds each);
every test in `tests/integration` and `tests/e2e` needs Azurite and is marked `azurite`
here; long multi-process ones are also marked `slow` in their modules. A unit test that
asks for Azurite is a collection error, so the pure tier stays pure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AZURITE_PORTS = (10000, 10001, 10002)
DEV_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


STORAGE_FIXTURES = {"azurite", "connection_string"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if tier in ("integration", "e2e"):
            item.add_marker(pytest.mark.azurite)
        elif tier == "unit":
            used = STORAGE_FIXTURES & set(getattr(item, "fixturenames", ()))
            if used:
                raise pytest.UsageError(
                    f"{item.nodeid} is in the pure tier but uses {sorted(used)}; move it to "
                    "tests/integration"
                )


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """A connection string for an Azurite that is up for the whole session."""
    if all(_listening(p) for p in AZURITE_PORTS):
        yield DEV_CONNECTION_STRING
        return
    exe = ROOT / "node_modules" / ".bin" / "azurite"
    if not exe.exists():
        found = shutil.which("azurite")
        if not found:
            pytest.fail("Azurite is not installed: run `npm ci` in the repository root")
        exe = Path(found)
    data = tempfile.mkdtemp(prefix="azurite-test-")
    proc = subprocess.Popen(
        [str(exe), "--silent", "--skipApiVersionCheck", "--loose", "--location", data],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not all(_listening(p) for p in AZURITE_PORTS):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("Azurite did not start listening on 10000-10002 within 30 s")
        time.sleep(0.1)
    try:
        yield DEV_CONNECTION_STRING
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def hub_name() -> str:
    """A task hub name unique to the test (alphanumeric, starts with a letter, <= 45 chars)."""
    return "t" + uuid.uuid4().hex[:20]


@pytest.fixture
def connection_string(azurite: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Azurite's connection string, also as the app setting `AzureWebJobsStorage` for the
    test's duration (code that loads settings from the environment finds it there)."""
    if not os.environ.get("AzureWebJobsStorage"):
        monkeypatch.setenv("AzureWebJobsStorage", azurite)
    return azurite
