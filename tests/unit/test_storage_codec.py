"""Codec round-trips: every event type, as a History row and as a queue message."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from durable.core.history import EventType, HistoryEvent
from durable.core.messages import TaskMessage
from durable.errors import MessageFormatError
from durable.storage import codec
from tests.support.events import sample_events


def _same(a: HistoryEvent, b: HistoryEvent) -> None:
    assert a == b
    # Excluded from == by the model, so checked on their own.
    assert a.tags == b.tags
    assert a.trace_context == b.trace_context


def test_codec_covers_every_history_event_field() -> None:
    fields = {f.name for f in dataclasses.fields(HistoryEvent)}
    assert fields == codec.ENCODED_ATTRIBUTES


def test_samples_cover_every_event_type() -> None:
    assert {e.event_type for e in sample_events()} == set(EventType)


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.event_type.name)
def test_row_round_trip(event: HistoryEvent) -> None:
    entity = codec.event_to_entity("inst/1", "exec-9", 10, event)
    assert entity["PartitionKey"] == "inst^01"
    assert entity["RowKey"] == "000000000000000A"
    assert entity["ExecutionId"] == "exec-9"
    assert entity["EventType"] == event.event_type.name
    assert entity["_Timestamp"].tzinfo is not None
    _same(codec.entity_to_event(entity), event)


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: e.event_type.name)
def test_message_round_trip(event: HistoryEvent) -> None:
    message = TaskMessage(
        message_id="m-1",
        instance_id="inst-1",
        event=event,
        execution_id="exec-1",
        sender_instance_id="parent-1",
        episode=3,
    )
    text = codec.message_to_json(message, sequence_number=5)
    envelope = json.loads(text)
    assert envelope["TaskMessage"]["Event"]["EventType"] == int(event.event_type)
    assert envelope["CompressedBlobName"] is None
    assert "$type" not in text
    decoded = codec.message_from_envelope(codec.parse_envelope(text))
    assert decoded == message
    _same(decoded.event, event)


def test_message_optional_fields_stay_none() -> None:
    event = HistoryEvent(EventType.EventRaised, datetime(2024, 1, 1, tzinfo=UTC), name="e")
    message = TaskMessage(message_id="m", instance_id="i", event=event)
    envelope = json.loads(codec.message_to_json(message))
    assert "Episode" not in envelope
    assert codec.message_from_envelope(envelope) == message


def test_row_shape_uses_durable_task_columns() -> None:
    started = sample_events()[1]
    entity = codec.event_to_entity("inst-1", "exec-1", 1, started)
    assert entity["Name"] == "orch"
    assert json.loads(entity["ParentInstance"])["OrchestrationInstance"] == {
        "InstanceId": "parent-1",
        "ExecutionId": "pexec",
    }
    assert json.loads(entity["OrchestrationInstance"])["ExecutionId"] == "exec-1"
    assert json.loads(entity["Tags"]) == {"k": "v"}
    completed = codec.event_to_entity("i", "e", 2, sample_events()[2])
    assert completed["OrchestrationStatus"] == "Failed"
    assert json.loads(completed["FailureDetails"])["ErrorType"] == "ValueError"


def test_datetimes_are_stored_as_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    event = HistoryEvent(EventType.TimerCreated, datetime(2024, 1, 1, 14, tzinfo=plus2))
    entity = codec.event_to_entity("i", "e", 0, event)
    assert entity["_Timestamp"] == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert entity["_Timestamp"].utcoffset() == timedelta(0)
    naive = HistoryEvent(EventType.TimerCreated, datetime(2024, 1, 1, 12))
    assert codec.entity_to_event(codec.event_to_entity("i", "e", 0, naive)).timestamp == datetime(
        2024, 1, 1, 12, tzinfo=UTC
    )


def test_malformed_inputs_raise_message_format_error() -> None:
    with pytest.raises(MessageFormatError, match="not JSON"):
        codec.parse_envelope("{not json")
    with pytest.raises(MessageFormatError, match="not a task message"):
        codec.message_from_envelope({"ActivityId": "x", "TaskMessage": {"Event": {}}})
    with pytest.raises(MessageFormatError, match="History row"):
        codec.entity_to_event({"PartitionKey": "p", "RowKey": "0", "EventType": "Nope"})
