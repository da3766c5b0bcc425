"""History as JSON: Durable Functions' out-of-process shape written and read back, our own
dump read, and golden-history replay from a file (pure: no storage)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Generator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from durable.client.history_view import event_to_dict
from durable.core import DurableOrchestrationContext
from durable.core.history import EventType, HistoryEvent
from durable.core.history_json import events_from_json, to_durable_json
from durable.core.status import OrchestrationRuntimeStatus as S
from durable.errors import HistoryFormatError, NonDeterminismError
from durable.testing import ExternalEvent, run_orchestrator
from durable.testing.replay import load_history, replay

Gen = Generator[Any, Any, Any]
Ctx = DurableOrchestrationContext


def approval(ctx: Ctx) -> Gen:
    order = ctx.get_input()
    quote = yield ctx.call_activity("quote", order)
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=5))
    decision = yield ctx.wait_for_external_event("approve")
    try:
        yield ctx.call_activity("charge", {"quote": quote, "ok": decision})
    except Exception as exc:
        return {"failed": str(exc)}
    return {"quote": quote, "decision": decision}


def approval_changed(ctx: Ctx) -> Gen:
    quote = yield ctx.call_activity("quote_v2", ctx.get_input())
    return quote


def charge(value: Any) -> Any:
    raise RuntimeError("card declined")


def recorded() -> list[HistoryEvent]:
    run = run_orchestrator(
        approval, {"item": "book"},
        activities={"quote": lambda o: 12.5, "charge": charge},
        events=[ExternalEvent("approve", True, after=timedelta(minutes=10))],
    )
    assert run.succeeded and run.output == {"failed": "card declined"}
    return run.history


def comparable(events: list[HistoryEvent]) -> list[HistoryEvent]:
    # The queue message id is the runtime's bookkeeping, not part of the exported history.
    return [dataclasses.replace(e, message_id=None) for e in events]


def test_the_export_is_durable_functions_shape() -> None:
    exported = to_durable_json(recorded())
    json.dumps(exported)  # JSON-ready
    first = exported[0]
    assert list(first)[:4] == ["EventType", "EventId", "IsPlayed", "Timestamp"]
    started = next(e for e in exported if e["EventType"] == EventType.ExecutionStarted)
    assert started["Name"] == "approval" and started["Input"] == '{"item": "book"}'
    assert started["OrchestrationInstance"]["InstanceId"] and "ParentInstance" in started
    scheduled = next(e for e in exported if e["EventType"] == EventType.TaskScheduled)
    assert scheduled["Name"] == "quote" and scheduled["EventId"] == 0
    completed = next(e for e in exported if e["EventType"] == EventType.TaskCompleted)
    assert completed["TaskScheduledId"] == 0 and completed["Result"] == "12.5"
    failed = next(e for e in exported if e["EventType"] == EventType.TaskFailed)
    assert failed["FailureDetails"]["ErrorMessage"] == "card declined"
    timer = next(e for e in exported if e["EventType"] == EventType.TimerFired)
    assert timer["FireAt"].endswith("Z") and isinstance(timer["TimerId"], int)
    done = next(e for e in exported if e["EventType"] == EventType.ExecutionCompleted)
    assert done["OrchestrationStatus"] == 1  # Durable Task's number for Completed
    assert all(e["Timestamp"].endswith("Z") for e in exported)


def test_the_export_reads_back_event_for_event() -> None:
    events = recorded()
    text = json.dumps(to_durable_json(events))
    assert comparable(events_from_json(json.loads(text))) == comparable(events)


def test_our_dump_reads_back_too() -> None:
    events = recorded()
    dump = json.loads(json.dumps([event_to_dict(e) for e in events]))
    assert dump[1]["EventType"] == "ExecutionStarted" and dump[1]["Input"] == {"item": "book"}
    back = events_from_json(dump)
    assert [e.event_type for e in back] == [e.event_type for e in events]
    assert [e.input for e in back] == [e.input for e in events]
    assert [e.result for e in back] == [e.result for e in events]


@pytest.mark.parametrize("form", ["file", "path-text", "list", "context", "dump"])
def test_replay_takes_every_form(form: str, tmp_path: Path) -> None:
    events = recorded()
    exported = to_durable_json(events)
    file = tmp_path / "approval.history.json"
    file.write_text(json.dumps(exported, indent=2), encoding="utf-8")
    source: Any = {
        "file": file,
        "path-text": str(file),
        "list": exported,
        "context": {"history": exported, "instanceId": "x", "isReplaying": False},
        "dump": [event_to_dict(e) for e in events],
    }[form]
    outcome = replay(source, approval)
    assert outcome.status is S.Completed
    assert json.loads(outcome.output or "null") == {"failed": "card declined"}
    with pytest.raises(NonDeterminismError) as caught:
        replay(source, approval_changed)
    text = str(caught.value)
    assert "TaskScheduled quote" in text and "quote_v2" in text
    assert "test_history_json.py" in text and "approval_changed" in text


# A history as Durable Functions' host sends it to an out-of-process orchestrator (.NET
# times with seven fractional digits, empty versions, null members), written by hand.
DURABLE_FUNCTIONS_HISTORY = [
    {"EventType": 12, "EventId": -1, "IsPlayed": True,
     "Timestamp": "2024-03-24T20:53:05.9093518Z"},
    {"OrchestrationInstance": {"InstanceId": "7f99f9d3", "ExecutionId": "a1b2"},
     "EventType": 0, "ParentInstance": None, "Name": "hello_sequence", "Version": "",
     "Input": "null", "Tags": None, "EventId": -1, "IsPlayed": True,
     "Timestamp": "2024-03-24T20:53:05.8Z"},
    {"EventType": 4, "Name": "say_hello", "Version": "", "Input": "\"Tokyo\"", "EventId": 0,
     "IsPlayed": False, "Timestamp": "2024-03-24T20:53:06.1Z"},
    {"EventType": 13, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-03-24T20:53:06.1Z"},
    {"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": "2024-03-24T20:53:07Z"},
    {"EventType": 5, "TaskScheduledId": 0, "Result": "\"Hello Tokyo!\"", "EventId": -1,
     "IsPlayed": False, "Timestamp": "2024-03-24T20:53:06.9Z"},
]


def hello_sequence(ctx: Ctx) -> Gen:
    a = yield ctx.call_activity("say_hello", "Tokyo")
    b = yield ctx.call_activity("say_hello", "London")
    return [a, b]


def test_a_history_from_durable_functions_replays() -> None:
    events = load_history(DURABLE_FUNCTIONS_HISTORY)
    assert events[1].instance_id == "7f99f9d3" and events[1].execution_id == "a1b2"
    assert events[0].timestamp.microsecond == 909351
    outcome = replay(DURABLE_FUNCTIONS_HISTORY, hello_sequence)
    assert outcome.status is S.Running
    assert [getattr(a, "name", None) for a in outcome.new_actions] == ["say_hello"]

    def reordered(ctx: Ctx) -> Gen:
        return [(yield ctx.call_activity("say_hello", "London"))]

    # Inputs are not part of the match, as in Durable Functions: same name, same kind.
    assert replay(DURABLE_FUNCTIONS_HISTORY, reordered).status is S.Completed

    def renamed(ctx: Ctx) -> Gen:
        return [(yield ctx.call_activity("greet", "Tokyo"))]

    with pytest.raises(NonDeterminismError, match="TaskScheduled say_hello"):
        replay(DURABLE_FUNCTIONS_HISTORY, renamed)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"events": []}, "has only events"),
        ("not a list", "JSON list of events, not str"),
        ([1], "Event 0 of the history is int"),
        ([{"EventType": 99, "Timestamp": "2024-01-01T00:00:00Z"}], "Event 0 .*99"),
        ([{"EventType": "Started", "Timestamp": "2024-01-01T00:00:00Z"}], "'Started'"),
        ([{"EventType": 0}], "missing member 'Timestamp'"),
        ([{"EventType": 0, "Timestamp": "yesterday"}], "Event 0 .*yesterday"),
    ],
)
def test_unreadable_histories_say_what_is_wrong(data: Any, message: str) -> None:
    with pytest.raises(HistoryFormatError, match=message):
        events_from_json(data)


def test_unreadable_files_say_which(tmp_path: Path) -> None:
    with pytest.raises(HistoryFormatError, match="Cannot read the history file"):
        replay(tmp_path / "missing.json", hello_sequence)
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(HistoryFormatError, match="broken.json is not JSON"):
        replay(broken, hello_sequence)
