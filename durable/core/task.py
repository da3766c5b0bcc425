"""Tasks: what an orchestrator yields, and what replay completes from history.

A task is completed (successfully or with an error) only by the replay engine when it
processes the matching history event, never by the user. Composite tasks (`task_all`,
`task_any`) and retrying tasks complete from their children through done-callbacks, so the
outcome of a whole tree is known the moment the deciding child event is applied.

A task takes its place in the orchestration (its sequence number and its action) when it is
first yielded, directly or inside a `task_all`/`task_any`, children in order: the rule of
the Durable Functions Python SDK. A task that is created and never yielded schedules
nothing. Work a task starts by itself afterwards (a retry's timer and next attempt) is
scheduled when the task decides to start it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from durable.core.history import FailureDetails
from durable.core.serialization import loads
from durable.errors import SerializationError, TaskAlreadyCompletedError, TaskFailedError

if TYPE_CHECKING:
    from durable.core.retry import RetryOptions

T = TypeVar("T")

_RUNNING, _SUCCEEDED, _FAILED = 0, 1, 2


class Task(Generic[T]):
    """Something an orchestrator can `yield`.

    The yield evaluates to the task's result, or raises its exception.
    """

    def __init__(self) -> None:
        self._state = _RUNNING
        self._value: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[Task[Any]], None]] = []
        self._expected_output_type: type | None = None

    @property
    def is_completed(self) -> bool:
        """True once the task has a result or an error."""
        return self._state != _RUNNING

    @property
    def is_faulted(self) -> bool:
        """True once the task failed."""
        return self._state == _FAILED

    @property
    def exception(self) -> BaseException | None:
        """The error of a failed task (None otherwise)."""
        return self._exception

    @property
    def result(self) -> Any:
        """The value of a completed task; for a faulted task, its exception.

        As in the SDK, a failure is returned rather than raised, so that after `task_any`
        the winner can be tested with `isinstance(winner.result, Exception)`.
        """
        if self._exception is not None:
            return self._exception
        return self._value

    def _schedule(self) -> None:
        """Take this task's place in the orchestration, once: called when it is yielded."""

    def _add_done_callback(self, callback: Callable[[Task[Any]], None]) -> None:
        if self.is_completed:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _set_result(self, value: Any) -> None:
        if self.is_completed:
            return
        self._state, self._value = _SUCCEEDED, value
        self._notify()

    def _set_exception(self, exception: BaseException) -> None:
        if self.is_completed:
            return
        self._state, self._exception = _FAILED, exception
        self._notify()

    def _notify(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def __repr__(self) -> str:
        state = ("running", "completed", "faulted")[self._state]
        return f"<{type(self).__name__} {self._describe()} {state}>"

    def _describe(self) -> str:
        return ""


TaskBase = Task  # the SDK's name for the base class


class AtomicTask(Task[Any]):
    """One scheduled unit: an activity, a sub-orchestration, an external event, an entity call.

    `id` is the sequence number for scheduled work (None until the task is yielded) and the
    event name for events.
    """

    def __init__(
        self,
        id_: int | str | None,
        description: str,
        on_schedule: Callable[[AtomicTask], None] | None = None,
        *,
        decode: Callable[[str, type | None], Any] | None = None,
    ) -> None:
        super().__init__()
        self.id = id_
        self.description = description
        self._on_schedule = on_schedule
        self._decode = decode or (lambda text, expected: loads(text, expected))

    def _schedule(self) -> None:
        hook, self._on_schedule = self._on_schedule, None
        if hook is not None:
            hook(self)

    def _describe(self) -> str:
        return self.description

    def _resolve(self, payload: str | None) -> None:
        """Complete from a JSON payload, decoded as the task's expected type (if any).

        A payload that cannot be decoded fails the task (the orchestrator sees the
        SerializationError at its yield).
        """
        try:
            value = None if payload is None or payload == "" else self._decode(
                payload, self._expected_output_type
            )
        except SerializationError as exc:
            self._set_exception(exc)
            return
        self._set_result(value)


class TimerTask(AtomicTask):
    """A durable timer.

    Cancelling it lets the orchestration finish without waiting; the timer message still
    arrives later and is ignored.
    """

    def __init__(
        self,
        id_: int | None,
        fire_at: datetime,
        on_schedule: Callable[[AtomicTask], None] | None = None,
    ) -> None:
        super().__init__(id_, f"timer at {fire_at.isoformat()}", on_schedule)
        self.fire_at = fire_at
        self._cancelled = False

    @property
    def is_cancelled(self) -> bool:
        """Whether `cancel` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Stop waiting for the timer (an orchestration may finish with it pending)."""
        if self.is_completed:
            raise TaskAlreadyCompletedError(
                f"Cannot cancel {self.description}: it has already fired."
            )
        self._cancelled = True


class CompoundTask(Task[T], ABC):
    """A task over children; it subscribes to them once, at construction."""

    def __init__(self, children: Sequence[Task[Any]]) -> None:
        super().__init__()
        self.children: list[Task[Any]] = list(children)
        for child in self.children:
            if not isinstance(child, Task):
                raise TypeError(
                    f"task_all/task_any take tasks returned by the context "
                    f"(call_activity, create_timer, ...), got {type(child).__name__}"
                )
        for child in self.children:
            child._add_done_callback(self._on_child_done)

    def _schedule(self) -> None:
        for child in self.children:
            child._schedule()

    @abstractmethod
    def _on_child_done(self, child: Task[Any]) -> None:
        """How a child's completion decides this task (all of them, or the first)."""


class WhenAllTask(CompoundTask[list[Any]]):
    """The task of `task_all`: the children's results, in their order.

    It fails as soon as one child fails, with that child's error, as the Durable Functions
    Python SDK does (it does not wait for the others).
    """

    def __init__(self, children: Sequence[Task[Any]]) -> None:
        children = list(children)
        # Children not yet done, counted down by their callbacks (which the base class may
        # call at once, for children already done): a fan-in of N is O(N), not O(N^2).
        self._unfinished = len(children)
        super().__init__(children)
        if not self.children:
            self._set_result([])

    def _on_child_done(self, child: Task[Any]) -> None:
        self._unfinished -= 1
        if child.is_faulted and child.exception is not None:
            self._set_exception(child.exception)
        elif self._unfinished == 0:
            self._set_result([c._value for c in self.children])

    def _describe(self) -> str:
        return f"task_all of {len(self.children)}"


class WhenAnyTask(CompoundTask[Task[Any]]):
    """The task of `task_any`: its result is the first child to complete.

    The result is the Task object (completed successfully or not), so the orchestrator can
    tell which one won and read its `result`.
    """

    def __init__(self, children: Sequence[Task[Any]]) -> None:
        super().__init__(children)
        if not self.children:
            # As the SDK: nothing to wait for, so it is done at once, with no winner.
            self._set_result(None)

    def _on_child_done(self, child: Task[Any]) -> None:
        self._set_result(child)

    def _describe(self) -> str:
        return f"task_any of {len(self.children)}"


class RetryableTask(Task[Any]):
    """Repeats an activity or sub-orchestration on failure, waiting on durable timers.

    History shape is Durable Task's: TaskScheduled n, TaskFailed n, TimerCreated n+1,
    TimerFired n+1, TaskScheduled n+2, ... and, as in Durable Task (and the SDK), after the
    last allowed attempt has failed, one more timer, due at once; when it fires, the task
    fails. A retry that stops for another reason (the retry timeout has passed, a
    non-retriable failure) fails at once, as Durable Task's does.
    """

    def __init__(
        self,
        options: RetryOptions,
        start_attempt: Callable[[], Task[Any]],
        create_timer: Callable[[datetime], TimerTask],
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self.options = options
        self._start_attempt = start_attempt
        self._create_timer = create_timer
        self._clock = clock
        self._first_attempt_at: datetime | None = None
        self.attempts = 0
        # The first attempt's task: what the SDK's JSON shows as the retried call.
        self.first_attempt: Task[Any] | None = None

    def _schedule(self) -> None:
        if self._first_attempt_at is None:
            self._first_attempt_at = self._clock()
            self._run_attempt()

    def _run_attempt(self, _timer: Task[Any] | None = None) -> None:
        self.attempts += 1
        attempt = self._start_attempt()
        if self.first_attempt is None:
            self.first_attempt = attempt
        attempt._expected_output_type = self._expected_output_type
        attempt._schedule()
        attempt._add_done_callback(self._on_attempt_done)

    def _on_attempt_done(self, attempt: Task[Any]) -> None:
        error = attempt.exception
        if error is None:
            self._set_result(attempt._value)
            return
        details = getattr(error, "failure_details", None)
        if isinstance(details, FailureDetails) and details.is_non_retriable:
            self._set_exception(error)
            return
        now = self._clock()
        if self.attempts >= self.options.max_number_of_attempts:
            # Durable Task keeps a timer here for the histories its earlier versions wrote.
            self._wait(now, lambda _timer: self._set_exception(error))
            return
        assert self._first_attempt_at is not None
        delay = self.options.next_delay(self.attempts, self._first_attempt_at, now)
        if delay is None:
            self._set_exception(error)  # the retry timeout has passed
        else:
            self._wait(now + delay, self._run_attempt)

    def _wait(self, fire_at: datetime, then: Callable[[Task[Any]], None]) -> None:
        timer = self._create_timer(fire_at)
        timer._schedule()
        timer._add_done_callback(then)

    def _describe(self) -> str:
        return f"retrying after {self.attempts} attempt(s)"


def failure_error(
    details: FailureDetails | None, *, fallback_message: str | None, description: str
) -> TaskFailedError:
    """Build the exception an orchestrator sees for a failed task.

    It comes from the FailureDetails, or for histories without them from the event's reason.
    """
    if details is not None:
        return TaskFailedError(
            details.error_message,
            error_type=details.error_type,
            stack_trace=details.stack_trace,
            failure_details=details,
            task_name=description,
        )
    return TaskFailedError(
        fallback_message or f"{description} failed",
        error_type="Exception",
        task_name=description,
    )
