"""`orchestrator_generator_wrapper`: the SDK's helper for unit tests that step an
orchestrator generator by hand (`azure.durable_functions.testing`)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from durable.core.task import TaskBase

__all__ = ["orchestrator_generator_wrapper"]


def orchestrator_generator_wrapper(
    generator: Generator[TaskBase[Any], Any, Any],
) -> Generator[TaskBase[Any] | Any, None, None]:
    """Drive an orchestrator generator the way replay does, for tests with a mocked context.

    `generator` is the orchestrator function called with a (mocked) context. The wrapper
    yields each task the orchestrator yields, sends each task's `result` back in, and for a
    task that failed throws its error into the orchestrator instead, as replay does: a
    faulted `df.Task`, or any object whose `result` raises (a mock with a raising
    `PropertyMock`). Its last item is the orchestrator's return value. The tasks are
    yielded one by one, so a test can check what was scheduled, in order::

        context = Mock()
        context.call_activity = Mock(side_effect=lambda name, data: Mock(result=data + 1))
        steps = list(orchestrator_generator_wrapper(my_orchestrator(context)))
        assert steps[-1] == expected_output

    An error the orchestrator does not catch comes out of the wrapper.
    """
    try:
        previous = next(generator)
    except StopIteration as done:  # returned before its first yield
        yield done.value
        return
    yield previous
    while True:
        value, failure = _outcome_of(previous)
        try:
            previous = generator.send(value) if failure is None else generator.throw(failure)
        except StopIteration as done:
            yield done.value
            return
        yield previous


def _outcome_of(task: Any) -> tuple[Any, BaseException | None]:
    """What the yield of `task` gives the orchestrator: a value, or an error to raise."""
    if isinstance(task, TaskBase):
        return (None, task.exception) if task.is_faulted else (task.result, None)
    try:
        return task.result, None  # a mock's `result` may raise the task's error
    except Exception as error:
        return None, error
