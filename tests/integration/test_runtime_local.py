"""Local delivery: the queued copy takes over when in-process handling fails."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from durable.app.root import process
from durable.core.messages import TaskMessage
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.runtime.instance_rows import RowRead
from durable.runtime.worker import DurableWorker
from durable.storage.interface import ReceivedMessage
from durable.storage.settings import TaskHubSettings
from durable.storage.taskhub import TaskHub
from tests.support.hubs import running_hub, wait_for_status
from tests.support.pump import QueuePump


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


async def test_a_message_handled_in_process_is_applied_only_once_its_copy_is_queued(
    connection_string: str, hub_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start and the work items are handled in-process while their queued copies are
    sent. Should the process die after an episode applied the start and before that
    episode's sends, the start's copy is what re-sends them: so it is applied only once its
    copy is queued. An activity's result may be applied before its work item's copy is
    (the episode that scheduled the work waits for that copy and recovers the rest, see
    test_outbox); here every copy's send is held until something that must wait is applied
    (which must not happen) or for a second."""
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        local = r.worker.sender.local
        assert local is not None
        queues = r.worker.hub.queues
        real_send, real_submit = queues.send_leased, local._submit
        unsent: set[str] = set()
        early: list[str] = []
        answers_early: list[str] = []
        applied_early = asyncio.Event()

        async def held_send(message: TaskMessage, *, delay: timedelta) -> ReceivedMessage:
            unsent.add(message.message_id)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(applied_early.wait(), 1.0)
                return await real_send(message, delay=delay)
            finally:
                unsent.discard(message.message_id)

        async def watched_submit(message: TaskMessage) -> None:
            if message.message_id in unsent:
                early.append(f"{message.event.event_type.name} {message.message_id}")
                applied_early.set()
            elif message.message_id.removesuffix(":done") in unsent:
                answers_early.append(message.message_id)
            await real_submit(message)

        monkeypatch.setattr(queues, "send_leased", held_send)
        local._submit = watched_submit
        iid = await r.client.start_new("hello_sequence")
        st = await wait_for_status(r.client, iid, timeout=60)
    assert st.runtime_status is S.Completed
    assert st.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
    assert early == []
    # The three results did not wait for their work items' copies (held a second each).
    assert len(answers_early) == 3


async def test_backlogged_activities_are_taken_from_the_queue(
    connection_string: str, hub_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host with one activity slot and a fan-out of 12: the backlog becomes visible in the
    work-item queue, the queue path of any host (here a second worker too) takes some, and
    the scheduling host skips those it can no longer claim: each activity runs once."""
    from durable.runtime import local as local_module
    from tests.integration import orchestrations

    monkeypatch.setattr(local_module, "STEAL_AFTER", timedelta(seconds=1))
    taken: list[str] = []
    real = DurableWorker.on_work_item

    async def counting(self: DurableWorker, body: bytes | str, dequeue_count: int = 1) -> None:
        taken.append(self.hub.hub_name)
        await real(self, body, dequeue_count)

    monkeypatch.setattr(DurableWorker, "on_work_item", counting)
    orchestrations.steal_runs.clear()
    busy = TaskHubSettings(
        hub_name=hub_name, connection_string=connection_string, max_concurrent_activity_functions=1
    )
    async with running_hub(busy) as r:
        helper_hub = TaskHub(busy)
        try:
            async with QueuePump(DurableWorker(busy, helper_hub, process.registry)):
                iid = await r.client.start_new("slow_fan_out", client_input=12)
                st = await wait_for_status(r.client, iid, timeout=60)
        finally:
            await helper_hub.close()
    assert st.output == sum(range(12))
    assert taken, "backlogged work items should have been taken from the queue"
    assert orchestrations.steal_runs == {i: 1 for i in range(12)}


async def test_an_episode_of_duplicates_keeps_the_live_session(
    connection_string: str, hub_name: str
) -> None:
    """A redelivered message commits nothing; the live session must survive it, or the
    instance's next episode reads its whole history again (for a large fan-in, most of the
    episode's cost)."""
    from datetime import UTC, datetime

    from durable.core.events import event_raised
    from durable.runtime import stats

    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        iid = await r.client.start_new("wait_event")
        await wait_for_status(r.client, iid, (S.Running,))
        queues = r.worker.hub.queues

        def raised(message_id: str, name: str) -> TaskMessage:
            event = event_raised(datetime.now(UTC), name=name, input='"ok"')
            return TaskMessage(message_id, iid, event)

        other = await queues.encode(raised("m-other", "other"))
        before = stats.snapshot()
        await r.worker.on_control_message(other)
        await r.worker.on_control_message(other)  # a redelivery: nothing to commit
        await r.worker.on_control_message(await queues.encode(raised("m-approval", "approval")))
        after = stats.snapshot()
        st = await wait_for_status(r.client, iid)
    assert st.runtime_status is S.Completed and st.output == "ok"

    def spent(key: str) -> int:
        return after.get(key, 0) - before.get(key, 0)

    assert spent(stats.EPISODES) == 3
    # The duplicate is judged on freshly read history (one read); the other two use the
    # session, which the duplicate's episode left in place.
    assert spent(stats.HISTORY_LOADS) == 1
    assert spent(stats.SESSION_HITS) == 3


async def test_an_episode_is_acknowledged_without_waiting_for_an_earlier_episodes_sends(
    connection_string: str, hub_name: str
) -> None:
    """While one episode's sends are still going out (a fan-out's thousand work items), the
    next episode's messages are acknowledged once its own sends and row are done; only a row
    that shows the instance finished waits for the earlier sends."""
    import asyncio
    import contextvars
    from collections.abc import Sequence
    from datetime import UTC, datetime

    from durable.core.events import event_raised
    from durable.runtime.outbox import Outbound

    # Set in the first episode's task, and so in the tasks it starts: the sends to hold are
    # that episode's, not the start episode's, whose sends may still be going out after
    # its row shows Running.
    holding: contextvars.ContextVar[bool] = contextvars.ContextVar("holding", default=False)
    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        iid = await r.client.start_new("wait_event")
        await wait_for_status(r.client, iid, (S.Running,))
        pipeline = r.worker.episodes
        real_send_all = pipeline._sender.send_all
        reached, release = asyncio.Event(), asyncio.Event()

        class HeldSender:
            def __getattr__(self, name: str) -> object:
                return getattr(pipeline_sender, name)

            async def send_all(self, outbound: Sequence[Outbound]) -> None:
                if holding.get() and not reached.is_set():
                    reached.set()
                    await release.wait()
                await real_send_all(outbound)

        pipeline_sender = pipeline._sender
        pipeline._sender = HeldSender()  # type: ignore[assignment]
        queues = r.worker.hub.queues

        async def body(message_id: str, name: str) -> str:
            event = event_raised(datetime.now(UTC), name=name, input='"ok"')
            return await queues.encode(TaskMessage(message_id, iid, event))

        async def held_episode() -> None:
            holding.set(True)
            await r.worker.on_control_message(await body("m-1", "other"))

        first = asyncio.create_task(held_episode())
        await asyncio.wait_for(reached.wait(), 10)
        # The first episode's sends are held; the second episode still completes.
        await asyncio.wait_for(
            r.worker.on_control_message(await body("m-2", "another")), 10
        )
        assert not first.done()
        # An episode that finishes the instance commits, but its row does not say so while
        # an earlier episode's sends are still pending.
        last = asyncio.create_task(r.worker.on_control_message(await body("m-3", "approval")))
        for _ in range(20):
            await asyncio.sleep(0.05)
            st = await r.client.get_status(iid)
            assert st is not None and st.runtime_status is S.Running
        assert not last.done()
        release.set()
        await asyncio.wait_for(asyncio.gather(first, last), 10)
        pipeline._sender = pipeline_sender
        st = await wait_for_status(r.client, iid)
    assert st.runtime_status is S.Completed and st.output == "ok"


async def test_a_changed_row_is_written_before_the_episodes_sends(
    connection_string: str, hub_name: str
) -> None:
    """The step an episode's sends cause may finish the instance on another host; the
    episode's own (older) row must not land after that host's finished row, so it is
    written first, as Durable Task does."""
    import asyncio
    from collections.abc import Sequence

    from durable.runtime.outbox import Outbound
    from durable.storage.interface import InstanceUpdate

    settings = TaskHubSettings(hub_name=hub_name, connection_string=connection_string)
    async with running_hub(settings) as r:
        pipeline = r.worker.episodes
        real_rows, real_sender = pipeline._rows, pipeline._sender
        row_held, release = asyncio.Event(), asyncio.Event()
        sent_while_held: list[int] = []

        class HeldRows:
            def prepare(self, instance_id: str, update: InstanceUpdate) -> RowRead | None:
                return real_rows.prepare(instance_id, update)

            async def write(self, instance_id: str, update: InstanceUpdate,
                            read: RowRead | None = None) -> None:
                if update.runtime_status is S.Running and not release.is_set():
                    row_held.set()
                    await release.wait()
                await real_rows.write(instance_id, update, read)

            async def repair(self, instance_id: str, update: InstanceUpdate) -> None:
                await real_rows.repair(instance_id, update)

        class WatchedSender:
            def __getattr__(self, name: str) -> object:
                return getattr(real_sender, name)

            async def send_all(self, outbound: Sequence[Outbound]) -> None:
                if outbound and row_held.is_set() and not release.is_set():
                    sent_while_held.append(len(outbound))
                await real_sender.send_all(outbound)

        pipeline._rows = HeldRows()  # type: ignore[assignment]
        pipeline._sender = WatchedSender()  # type: ignore[assignment]
        iid = await r.client.start_new("hello_sequence")
        await asyncio.wait_for(row_held.wait(), 10)
        # While the Running row is held, the first activity's work item stays unsent.
        for _ in range(10):
            await asyncio.sleep(0.05)
            assert not sent_while_held
        release.set()
        st = await wait_for_status(r.client, iid, timeout=30)
        pipeline._rows, pipeline._sender = real_rows, real_sender  # type: ignore[assignment]
    assert st.runtime_status is S.Completed
    assert st.output == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]
