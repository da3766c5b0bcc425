"""Episodes served from live sessions, checked against a replay of the history
(`verifyLiveSessions`): a non-deterministic orchestrator fails as it would after a recycle."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import LiveSessionCheck, TaskHubSettings
from tests.integration import determinism_functions
from tests.support.hubs import running_hub, wait_for_status


@pytest.fixture
def settings(connection_string: str, hub_name: str) -> TaskHubSettings:
    determinism_functions.RUNS["flip_flop"] = 0
    return TaskHubSettings(hub_name=hub_name, connection_string=connection_string,
                           extended_sessions_enabled=True)


def checked(settings: TaskHubSettings, mode: LiveSessionCheck, rate: float = 0.1
            ) -> TaskHubSettings:
    return dataclasses.replace(settings, verify_live_sessions=mode,
                               verify_live_sessions_sample_rate=rate)


async def test_a_changing_orchestrator_fails_when_checked(
    settings: TaskHubSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="durable.orchestration")
    async with running_hub(checked(settings, LiveSessionCheck.ALWAYS)) as r:
        iid = await r.client.start_new("flip_flop")
        st = await wait_for_status(r.client, iid)
    assert st.runtime_status is S.Failed
    # The text a real replay gives: what history has, what the code did, and where.
    assert "Non-deterministic" in st.output or "non-determinis" in st.output.lower()
    assert "det_hello" in st.output and "det_inc" in st.output
    assert "determinism_functions.py" in st.output
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("Non-deterministic orchestrator 'flip_flop'" in m for m in errors), errors


async def test_off_lets_the_live_session_hide_it(settings: TaskHubSettings) -> None:
    async with running_hub(checked(settings, LiveSessionCheck.OFF)) as r:
        iid = await r.client.start_new("flip_flop")
        st = await wait_for_status(r.client, iid)
    assert st.runtime_status is S.Completed
    assert st.output == [1, 2]


@pytest.mark.parametrize(("rate", "fails"), [(0.0, False), (1.0, True)])
async def test_sampled_checks_the_share_it_is_given(
    settings: TaskHubSettings, rate: float, fails: bool
) -> None:
    async with running_hub(checked(settings, LiveSessionCheck.SAMPLED, rate)) as r:
        iid = await r.client.start_new("flip_flop")
        st = await wait_for_status(r.client, iid)
    assert (st.runtime_status is S.Failed) is fails


async def test_a_deterministic_orchestrator_is_untouched_by_the_check(
    settings: TaskHubSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="durable.orchestration")
    async with running_hub(checked(settings, LiveSessionCheck.ALWAYS)) as r:
        iid = await r.client.start_new("steady")
        st = await wait_for_status(r.client, iid)
    assert st.runtime_status is S.Completed and st.output == 2
    assert not [r for r in caplog.records if r.levelno == logging.ERROR]
