"""The runtime's Instances row writes on Azurite: a row write that lands after another
host finished the instance does not take it back to running; every other write lands."""

from __future__ import annotations

import pytest

from durable.core.history import OrchestrationStatus
from durable.runtime.instance_rows import InstanceRows
from durable.storage import InstanceRecord, InstanceUpdate, TaskHub
from tests.support.events import at

pytestmark = pytest.mark.azurite

S = OrchestrationStatus


def running(execution: str = "e1", custom: str | None = None) -> InstanceUpdate:
    return InstanceUpdate(execution_id=execution, runtime_status=S.Running,
                          custom_status=custom, last_updated_time=at(1))


def finished(execution: str = "e1") -> InstanceUpdate:
    return InstanceUpdate(execution_id=execution, runtime_status=S.Completed, output='"done"',
                          completed_time=at(2), last_updated_time=at(2))


async def status(hub: TaskHub, instance_id: str) -> tuple[S, str | None, str | None]:
    record = await hub.instances.get(instance_id)
    assert record is not None
    return record.runtime_status, record.execution_id, record.custom_status


async def pending(hub: TaskHub, instance_id: str) -> None:
    await hub.instances.insert(InstanceRecord(
        instance_id=instance_id, name="orch", execution_id="e1", created_time=at(0),
        last_updated_time=at(0)))


async def test_a_first_write_read_before_another_host_finished_it_is_dropped(
    hub: TaskHub,
) -> None:
    here, there = InstanceRows(hub.instances), InstanceRows(hub.instances)
    await pending(hub, "late")
    read = here.prepare("late", running())  # alongside this host's history commit
    assert read is not None
    await read
    await there.write("late", finished())  # the other host's whole episode, meanwhile
    await here.write("late", running(), read)
    assert await status(hub, "late") == (S.Completed, "e1", None)


async def test_a_later_write_of_this_host_does_not_go_back_either(hub: TaskHub) -> None:
    here, there = InstanceRows(hub.instances), InstanceRows(hub.instances)
    await pending(hub, "again")
    await here.write("again", running(), here.prepare("again", running()))
    assert here.prepare("again", running(custom='"step 2"')) is None  # its own ETag is known
    await there.write("again", finished())
    await here.write("again", running(custom='"step 2"'))
    assert await status(hub, "again") == (S.Completed, "e1", None)


async def test_a_changed_row_that_is_not_finished_is_read_again_and_written(
    hub: TaskHub,
) -> None:
    here, there = InstanceRows(hub.instances), InstanceRows(hub.instances)
    await pending(hub, "moved")
    await here.write("moved", running(), here.prepare("moved", running()))
    await there.write("moved", running(custom='"theirs"'))
    await here.write("moved", running(custom='"mine"'))
    assert await status(hub, "moved") == (S.Running, "e1", '"mine"')


async def test_a_new_execution_is_written_over_a_finished_one(hub: TaskHub) -> None:
    rows = InstanceRows(hub.instances)
    await pending(hub, "renewed")
    await rows.write("renewed", finished())
    await rows.write("renewed", running("e2"), rows.prepare("renewed", running("e2")))
    assert await status(hub, "renewed") == (S.Running, "e2", None)


async def test_a_missing_row_is_created(hub: TaskHub) -> None:
    rows = InstanceRows(hub.instances)
    await rows.write("child", running(), rows.prepare("child", running()))
    assert await status(hub, "child") == (S.Running, "e1", None)


async def test_a_finished_row_is_written_whatever_was_there(hub: TaskHub) -> None:
    here, there = InstanceRows(hub.instances), InstanceRows(hub.instances)
    await pending(hub, "last")
    assert here.prepare("last", finished()) is None  # no read: it is the last word
    await there.write("last", running(custom='"x"'))
    await here.write("last", finished())
    assert await status(hub, "last") == (S.Completed, "e1", '"x"')


async def test_repair_does_not_take_a_finished_row_back(hub: TaskHub) -> None:
    rows = InstanceRows(hub.instances)
    await pending(hub, "repaired")
    await rows.repair("repaired", running())
    assert await status(hub, "repaired") == (S.Running, "e1", None)
    await rows.write("repaired", finished())
    await rows.repair("repaired", running())
    assert await status(hub, "repaired") == (S.Completed, "e1", None)


async def test_entity_rows_are_merged(hub: TaskHub) -> None:
    rows = InstanceRows(hub.instances, guarded=False)
    assert rows.prepare("@counter@a", running()) is None
    await rows.write("@counter@a", finished())
    await rows.write("@counter@a", running())
    assert await status(hub, "@counter@a") == (S.Running, "e1", None)
