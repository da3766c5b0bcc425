"""Local delivery: the queued copy takes over when in-process handling fails."""

from __future__ import annotations

from durable.core.messages import TaskMessage
from durable.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from tests.integration.helpers import running_hub, wait_for_status


async def test_failed_local_handling_releases_the_queued_copy(
    connection_string: str, hub_name: str
) -> None:
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        local = r.worker.sender.local
        assert local is not None
        real_submit = local._submit
        failures: list[str] = []

        async def flaky_submit(message: TaskMessage) -> None:
            if len(failures) < 2:
                failures.append(message.event.event_type.name)
                raise ConnectionError("simulated failure while handling in-process")
            await real_submit(message)

        local._submit = flaky_submit
        iid = await r.client.start_new("hello_sequence")
        # The lease is 5 minutes: completing within the deadline proves the copy was released.
        st = await wait_for_status(r.client, iid, timeout=30)
        assert st.runtime_status is S.Completed
        assert st.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
        assert len(failures) == 2
