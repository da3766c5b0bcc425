"""Entities on Azurite (in-process pump): batching, rollback, destruct, locks, large state,
unknown names, scheduled signals, starts and signals from operations, clean-up."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import pytest

import durable as df
from durable.core.entity_state import SchedulerState
from durable.core.history import EventType
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.storage.settings import TaskHubSettings
from tests.integration import entity_functions
from tests.support.hubs import Running, poll_until, running_hub, wait_for_status


@pytest.fixture
def settings(connection_string: str, hub_name: str) -> TaskHubSettings:
    return TaskHubSettings(hub_name=hub_name, connection_string=connection_string)


async def state_of(r: Running, entity: df.EntityId) -> object:
    return (await r.client.read_entity_state(entity)).entity_state


async def reaches(r: Running, entity: df.EntityId, value: object, timeout: float = 30) -> None:
    async def check() -> bool:
        return await state_of(r, entity) == value

    await poll_until(check, timeout)


async def contending_transfers(
    r: Running, first: str, second: str, log_key: str
) -> tuple[df.EntityId, df.EntityId]:
    """Two accounts of 100 each, and four transfers of 10 between them that lock the pair
    in alternating orders; returns once all four completed."""
    a, b = df.EntityId("Account", first), df.EntityId("Account", second)
    for account in (a, b):
        await r.client.signal_entity(account, "deposit", 100)
        await reaches(r, account, 100)
    ids = [
        await r.client.start_new("ent_transfer", client_input=[x, y, 10, log_key])
        for x, y in ((first, second), (second, first), (first, second), (second, first))
    ]
    for iid in ids:
        st = await wait_for_status(r.client, iid, timeout=60)
        assert st.runtime_status is S.Completed, st.output
    return a, b


async def test_signals_that_arrive_together_run_as_one_batch(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "batch")
        await asyncio.gather(*(r.client.signal_entity(entity, "add", 1) for _ in range(40)))
        await reaches(r, entity, 40)
        # Far fewer commits than operations: the batches are folded together.
        row = await r.hub.instances.get(str(entity))
        assert row is not None and row.name == "@tally"
        state = SchedulerState.from_json(row.input)
        assert state.exists and json.loads(state.state or "") == 40
        assert state.received and all(len(rec.ranges) == 1 for rec in state.received.values())
        status = json.loads(row.custom_status or "{}")
        assert status == {"entityExists": True}


async def test_a_failed_call_rolls_back_and_reports(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "roll")
        await r.client.signal_entity(entity, "add", 5)
        await reaches(r, entity, 5)
        iid = await r.client.start_new("ent_call_failing", client_input="roll")
        st = await wait_for_status(r.client, iid)
        assert st.output == {"error": "cannot add that", "type": "TaskFailedError",
                             "error_type": "ValueError"}
        assert await state_of(r, entity) == 5  # not 1005
        row = await r.hub.instances.get(str(entity))
        assert row is not None and json.loads(row.output or "{}")["operation"] == "fail_after_add"


async def test_unserializable_state_fails_only_that_operation(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "bad")
        await r.client.signal_entity(entity, "add", 2)
        await r.client.signal_entity(entity, "store_unserializable")
        await r.client.signal_entity(entity, "add", 3)
        await reaches(r, entity, 5)
        row = await r.hub.instances.get(str(entity))
        assert row is not None
        error = json.loads(row.output or "{}")
        assert error["errorType"] == "SerializationError" and "object" in error["errorMessage"]


async def test_destruct_on_exit_deletes_the_state(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "gone")
        await r.client.signal_entity(entity, "add", 2)
        await reaches(r, entity, 2)
        await r.client.signal_entity(entity, "delete")

        async def deleted() -> bool:
            return not (await r.client.read_entity_state(entity)).entity_exists

        await poll_until(deleted)
        listed, _ = await r.client.list_entities("tally")
        assert str(entity) not in [str(e.entity_id) for e in listed]


async def test_large_state_goes_to_a_blob_and_back(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "big")
        await r.client.signal_entity(entity, "add", 1)
        await reaches(r, entity, 1)
        blob = "x" * 200_000
        iid = await r.client.start_new("ent_big_state", client_input=["big", blob])
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed, st.output
        assert st.output == len(blob)
        got = await r.client.read_entity_state(df.EntityId("Holder", "big"))
        assert got.entity_state == {"text": blob}


async def test_an_unknown_entity_name_fails_calls_and_is_recorded(
    settings: TaskHubSettings,
) -> None:
    async with running_hub(settings) as r:
        iid = await r.client.start_new("ent_call_unknown")
        st = await wait_for_status(r.client, iid)
        assert st.runtime_status is S.Completed
        assert "nosuchentity" in st.output and "tally" in st.output
        row = await r.hub.instances.get("@nosuchentity@k")
        assert row is not None
        assert json.loads(row.output or "{}")["errorType"] == "EntityNotFoundError"


async def test_a_scheduled_signal_waits_for_its_time(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "later")
        due = r.worker.clock.now() + timedelta(seconds=3)
        await r.client.signal_entity(entity, "add", 7, scheduled_time=due)
        await r.client.signal_entity(entity, "add", 1)
        await reaches(r, entity, 8)
        # The scheduled operation was the last one applied, and not before its time.
        row = await r.hub.instances.get(str(entity))
        assert row is not None and row.last_updated_time is not None
        assert row.last_updated_time >= due


async def test_operations_signal_entities_and_start_orchestrations(
    settings: TaskHubSettings,
) -> None:
    async with running_hub(settings) as r:
        source, target = df.EntityId("tally", "src"), df.EntityId("tally", "dst")
        await r.client.signal_entity(source, "forward", ["dst", 9])
        await reaches(r, target, 9)
        iid = await r.client.start_new("ent_call_start", client_input="starter")
        st = await wait_for_status(r.client, iid)
        child = st.output
        assert isinstance(child, str)
        child_status = await wait_for_status(r.client, child)
        assert child_status.runtime_status is S.Completed and child_status.output == 2


async def test_two_transfers_contending_for_the_same_accounts(settings: TaskHubSettings) -> None:
    """Locks are taken in a fixed order, so two orchestrations that lock the same pair
    (named in opposite orders) both finish, and their sections never interleave."""
    entity_functions.NOTES.clear()
    async with running_hub(settings) as r:
        a, b = await contending_transfers(r, "a", "b", "log")
        assert await state_of(r, a) == 100 and await state_of(r, b) == 100
        notes = [n for n in entity_functions.NOTES if n[0] == "log"]
        assert len(notes) == 8
        for i in range(0, 8, 2):  # in, out of the same instance, one section at a time
            assert notes[i][1:] == ("in", notes[i + 1][2])
            assert notes[i + 1][1] == "out"
        await reaches(r, df.EntityId("tally", "log"), 4)
        for entity in (a, b):
            row = await r.hub.instances.get(str(entity))
            assert row is not None and json.loads(row.custom_status or "{}").get("lockedBy") is None


async def test_clean_entity_storage_releases_orphaned_locks_and_removes_empties(
    settings: TaskHubSettings,
) -> None:
    async with running_hub(settings) as r:
        account = df.EntityId("Account", "orphan")
        iid = await r.client.start_new("ent_lock_and_wait", client_input="orphan")

        async def locked() -> bool:
            row = await r.hub.instances.get(str(account))
            return row is not None and '"lockedBy"' in (row.custom_status or "")

        await poll_until(locked)
        await r.client.terminate(iid, "leave the lock behind")
        await wait_for_status(r.client, iid)
        empty = df.EntityId("tally", "empty")
        await r.client.signal_entity(empty, "delete")

        async def exists() -> bool:
            return await r.hub.instances.get(str(empty)) is not None

        await poll_until(exists)
        r.client._settings = TaskHubSettings(  # no reorder window: empties are removable now
            hub_name=settings.hub_name, connection_string=settings.connection_string,
            entity_message_reorder_window=timedelta(0),
        )
        result = await r.client.clean_entity_storage()
        assert result.orphaned_locks_released == 1 and result.empty_entities_removed >= 1
        assert await r.hub.instances.get(str(empty)) is None

        async def unlocked() -> bool:
            row = await r.hub.instances.get(str(account))
            return row is not None and '"lockedBy"' not in (row.custom_status or "")

        await poll_until(unlocked)
        await r.client.signal_entity(account, "deposit", 1)
        await reaches(r, account, 1)


async def test_history_of_an_entity_is_its_last_batch(settings: TaskHubSettings) -> None:
    async with running_hub(settings) as r:
        entity = df.EntityId("tally", "hist")
        for i in range(3):
            await r.client.signal_entity(entity, "add", 1)
            await reaches(r, entity, i + 1)
        events = (await r.hub.history.load_history(str(entity))).events
        kinds = [e.event_type for e in events]
        assert kinds[:2] == [EventType.OrchestratorStarted, EventType.ExecutionStarted]
        assert kinds[-1] is EventType.OrchestratorCompleted
        assert json.loads(SchedulerState.from_json(events[1].input).state or "") == 3


async def test_a_batch_carries_the_outbox_of_one_whose_sends_failed(
    settings: TaskHubSettings,
) -> None:
    """Batch N+1 starts from the live session while batch N's sends are failing: its
    history replaces N's, so it must carry N's outbox along and send it, or N's signal
    is lost (the redelivery of N's messages would find only N+1's outbox to re-send)."""
    import uuid
    from collections.abc import Sequence
    from datetime import UTC, datetime

    from durable.core.entities import ENTITY_OPERATION_EVENT, EntityRequest
    from durable.core.events import event_raised
    from durable.core.messages import TaskMessage
    from durable.runtime.outbox import Outbound

    source, target = df.EntityId("tally", "src"), df.EntityId("tally", "dst")
    async with running_hub(settings) as r:
        await r.client.signal_entity(source, "add", 1)
        await reaches(r, source, 1)  # the source's session is live from here on
        pipeline = r.worker.entity_batches
        real = pipeline._sender
        failed: list[int] = []

        class FailingOnce:
            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

            async def send_all(self, outbound: Sequence[Outbound]) -> None:
                if outbound and not failed:
                    failed.append(len(outbound))
                    raise ConnectionError("simulated failure of a batch's sends")
                await real.send_all(outbound)

        pipeline._sender = FailingOnce()  # type: ignore[assignment]
        queues = r.worker.hub.queues

        async def operation(name: str, data: object) -> str:
            request = EntityRequest(uuid.uuid4().hex, name, True, json.dumps(data))
            event = event_raised(datetime.now(UTC), name=ENTITY_OPERATION_EVENT,
                                 input=request.to_json())
            return await queues.encode(TaskMessage(uuid.uuid4().hex, str(source), event))

        with pytest.raises(ConnectionError):
            await r.worker.on_control_message(await operation("forward", ["dst", 7]))
        assert failed == [1]
        await r.worker.on_control_message(await operation("add", 1))
        pipeline._sender = real
        await reaches(r, target, 7)
        await reaches(r, source, 2)
        history = await r.hub.history.load_history(str(source))
        sent = [e for e in history.events if e.event_type is EventType.EventSent]
        assert [e.instance_id for e in sent] == [str(target)]


async def test_contending_sections_send_nothing_twice(
    settings: TaskHubSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """A request (a call, a lock) often reaches the entity while the queued copy of its
    last answer is still going out; the batch waits for that send rather than carrying the
    answer along and sending it again, which made each side re-send to the other as after
    a redelivery."""
    caplog.set_level(logging.INFO, logger="durable.orchestration")
    async with running_hub(settings) as r:
        await contending_transfers(r, "x", "y", "log2")
    resent = [rec.getMessage() for rec in caplog.records if "after redelivery" in rec.getMessage()]
    assert resent == []
