"""Versions on the `durable` command line: `start-new --version`, the version in
`get-runtime-status`, and `get-instances --version`."""

from __future__ import annotations

import pytest

from tests.integration import versioned_functions  # noqa: F401  (registers the functions)
from tests.integration.test_durable_cli import Cli
from tests.integration.test_versioning_http import running
from tests.support.hubs import wait_for_status

pytestmark = pytest.mark.azurite


@pytest.fixture
def cli(hub_name: str, connection_string: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(hub_name, connection_string, capsys)


async def test_cli_starts_shows_and_filters_versions(
    cli: Cli, hub_name: str, connection_string: str
) -> None:
    async with running(hub_name, connection_string) as env:
        started = await cli.ok("start-new", "--function-name", "versioned_orchestrator",
                               "--id", "cli-v1", "--version", "1.0")
        assert started["version"] == "1.0" and "(version '1.0')" in started["message"]
        plain = await cli.ok("start-new", "--function-name", "versioned_orchestrator",
                             "--id", "cli-none")
        assert plain["version"] is None
        await wait_for_status(env.client, "cli-v1")
        await wait_for_status(env.client, "cli-none")
        status = await cli.ok("get-runtime-status", "--id", "cli-v1", "--show-output")
        assert status["version"] == "1.0"
        assert status["output"] == {"version": "1.0", "step": "ran v1"}
        listed = await cli.ok("get-instances", "--version", "1.0")
        assert [i["instanceId"] for i in listed["instances"]] == ["cli-v1"]
        table = (await cli.run("get-runtime-status", "--id", "cli-v1", "--table"))[1]
        assert "1.0" in table
