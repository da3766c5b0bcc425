"""A small driver for replay tests: it plays the runtime's part (start the instance, feed
completions back, append each episode's new history) while every episode replays the whole
history from scratch, so each test also checks that replay reproduces the first run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from durable.core import events as ev
from durable.core.history import EventType, FailureDetails, HistoryEvent, ParentInstance
from durable.core.replay import EpisodeResult, OrchestrationExecutor, OrchestrationSession
from durable.core.serialization import dumps

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class Harness:
    def __init__(
        self,
        orchestrator: Callable[..., Any],
        input: Any = None,
        *,
        name: str = "orch",
        instance_id: str = "inst-1",
        parent: ParentInstance | None = None,
        start: datetime = T0,
        sessions: bool = False,
    ) -> None:
        self.orchestrator = orchestrator
        self.instance_id = instance_id
        self.now = start
        self.history: list[HistoryEvent] = []
        self.results: list[EpisodeResult] = []
        self._start = ev.execution_started(
            start,
            name=name,
            instance_id=instance_id,
            input=dumps(input, "test input"),
            execution_id="exec-1",
            parent=parent,
        )
        self._session: OrchestrationSession | None = (
            OrchestrationSession(orchestrator, instance_id) if sessions else None
        )

    def start(self) -> EpisodeResult:
        return self.run(self._start)

    def run(self, *new_events: HistoryEvent, after: float = 1.0) -> EpisodeResult:
        """One episode at the current clock, then the clock moves on by `after` seconds."""
        if self._session is not None:
            result = self._session.apply(list(new_events), self.now)
        else:
            executor = OrchestrationExecutor(self.orchestrator, self.instance_id)
            result = executor.execute(self.history, list(new_events), self.now)
        self.history.extend(result.new_history)
        self.results.append(result)
        self.now += timedelta(seconds=after)
        return result

    def replay(self, orchestrator: Callable[..., Any] | None = None) -> EpisodeResult:
        """Replay the committed history with (possibly changed) code and no new events."""
        executor = OrchestrationExecutor(orchestrator or self.orchestrator, self.instance_id)
        return executor.execute(self.history, [], self.now)

    # --- inbound events ------------------------------------------------------------------

    def completed(self, task_id: int, value: Any = None) -> HistoryEvent:
        return ev.task_completed(self.now, task_scheduled_id=task_id, result=dumps(value, "t"))

    def failed(
        self,
        task_id: int,
        message: str = "boom",
        error_type: str = "ValueError",
        non_retriable: bool = False,
    ) -> HistoryEvent:
        details = FailureDetails(error_type, message, f"Traceback: {message}", non_retriable)
        return ev.task_failed(self.now, task_scheduled_id=task_id, failure_details=details)

    def sub_completed(self, task_id: int, value: Any = None) -> HistoryEvent:
        return ev.sub_orchestration_completed(
            self.now, task_scheduled_id=task_id, result=dumps(value, "t")
        )

    def sub_failed(self, task_id: int, message: str = "child broke") -> HistoryEvent:
        details = FailureDetails("RuntimeError", message, "child stack")
        return ev.sub_orchestration_failed(
            self.now, task_scheduled_id=task_id, failure_details=details
        )

    def fired(self, timer_id: int) -> HistoryEvent:
        created = next(
            e
            for e in self.history
            if e.event_type is EventType.TimerCreated and e.event_id == timer_id
        )
        assert created.fire_at is not None
        return ev.timer_fired(self.now, timer_id=timer_id, fire_at=created.fire_at)

    def raised(self, name: str, value: Any = None) -> HistoryEvent:
        return ev.event_raised(self.now, name=name, input=dumps(value, "t"))

    def raised_raw(self, name: str, text: str | None) -> HistoryEvent:
        """An event whose input is given as JSON text (an entity's response message)."""
        return ev.event_raised(self.now, name=name, input=text)

    def named(self, name: str) -> list[HistoryEvent]:
        return [e for e in self.history if e.name == name]

    def of_type(self, kind: EventType) -> list[HistoryEvent]:
        return [e for e in self.history if e.event_type is kind]


def kinds(events: list[HistoryEvent]) -> list[str]:
    return [e.event_type.name for e in events]
