"""The seed's patterns end to end through queues and tables (in-process pump)."""

from __future__ import annotations

import pytest

from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from tests.support.hubs import poll_until, running_hub, wait_for_status


@pytest.fixture(params=[True, False], ids=["sessions", "replay"])
def settings(
    connection_string: str, hub_name: str, request: pytest.FixtureRequest
) -> TaskHubSettings:
    """Each pattern runs with live sessions kept between episodes and with full replay."""
    return TaskHubSettings(
        hub_name=hub_name,
        connection_string=connection_string,
        extended_sessions_enabled=request.param,
    )


async def test_hello_sequence_chains_outputs(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("hello_sequence")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert not r.pump.errors


async def test_fan_out_fan_in_batches_completions(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("fan_out", client_input=20)
        st = await wait_for_status(r.client, iid)
        assert st.output == 20
        events = (await r.hub.history.load_history(iid)).events
        kinds = [e.event_type for e in events]
        assert kinds.count(EventType.TaskScheduled) == 20
        assert kinds.count(EventType.TaskCompleted) == 20
        # 20 completions arrive together: fewer episodes than completions.
        assert kinds.count(EventType.OrchestratorStarted) < 21


async def test_external_event_before_and_after_wait(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("wait_event")
        await r.client.raise_event(iid, "approval", {"ok": True})
        st = await wait_for_status(r.client, iid)
        assert st.output == {"ok": True}


async def test_durable_timer_fires(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("short_timer")
        st = await wait_for_status(r.client, iid)
        assert st.output == "fired"
        kinds = [e.event_type for e in (await r.hub.history.load_history(iid)).events]
        assert EventType.TimerCreated in kinds and EventType.TimerFired in kinds


async def test_retry_with_backoff_then_success(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("with_retry", client_input=settings.hub_name)
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == "ok after 3"
        events = (await r.hub.history.load_history(iid)).events
        kinds = [e.event_type for e in events]
        assert kinds.count(EventType.TaskFailed) == 2
        timers = [e for e in events if e.event_type is EventType.TimerCreated]
        scheduled = [e for e in events if e.event_type is EventType.TaskScheduled]
        assert len(timers) == 2 and len(scheduled) == 3


async def test_failure_fallback_and_compensation(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("fallback_and_compensate")
        st = await wait_for_status(r.client, iid)
        assert st.output == ["Hello conference!", "caught: cannot fly", "Hello undo conference!"]


async def test_unhandled_failure_fails_instance_with_message(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("unhandled_failure")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Failed
        assert "cannot book" in str(st.output)


async def test_sub_orchestrations_sequence_parallel_and_failure(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("parent_of_two")
        st = await wait_for_status(r.client, iid, timeout=60)
        assert st.runtime_status is S.Completed, st.output
        assert st.output["first"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert st.output["parallel"] == [5, 3]
        assert "cannot book" in st.output["failed"]
        child = await r.client.get_status(f"{iid}:0")
        assert child.runtime_status is S.Completed


async def test_continue_as_new_replaces_history(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("counter", client_input=0)
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed
        assert st.output == 5
        assert st.custom_status == {"n": 5}
        loaded = await r.hub.history.load_history(iid)
        started = [e for e in loaded.events if e.event_type is EventType.ExecutionStarted]
        assert len(started) == 1 and started[0].input == "5"
        assert not any(e.event_type is EventType.TaskScheduled for e in loaded.events)


async def test_suspend_holds_events_until_resume(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("wait_event")
        await wait_for_status(r.client, iid, (S.Running,))
        await r.client.suspend(iid, "maintenance")
        await wait_for_status(r.client, iid, (S.Suspended,))
        await r.client.raise_event(iid, "approval", "yes")
        # The event is applied only after resume: the instance stays suspended meanwhile.
        async def event_recorded() -> bool:
            loaded = await r.hub.history.load_history(iid)
            return any(e.event_type is EventType.EventRaised for e in loaded.events)

        await poll_until(event_recorded)
        st = await r.client.get_status(iid)
        assert st.runtime_status is S.Suspended
        await r.client.resume(iid, "done")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed and st.output == "yes"


async def test_terminate_with_reason(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("wait_event")
        await wait_for_status(r.client, iid, (S.Running,))
        await r.client.terminate(iid, "no longer needed")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Terminated
        assert st.output == "no longer needed"
        # a finished instance refuses events
        with pytest.raises(Exception, match="Terminated"):
            await r.client.raise_event(iid, "approval", 1)
