"""Runs the user's orchestrator function: starts it, feeds task results back into the
generator, and turns every way of writing an orchestrator wrongly into a failure whose
message says what was wrong and how to write it instead.

The driver never raises for user code: an exception escaping the orchestrator becomes a
`Failed` outcome carrying the exception.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from types import GeneratorType
from typing import Any

from durable.core.determinism import caller_location, frame_location
from durable.core.task import Task
from durable.errors import InvalidOrchestratorError

Orchestrator = Callable[..., Any]
# What user code may raise that becomes the instance's failure. SystemExit and GeneratorExit
# too: escaping into the host's event loop, they would stop the whole host, on every replay.
USER_ERRORS = (Exception, SystemExit, GeneratorExit)
# The driver's own frame tops the traceback of an orchestrator's exception; failure records
# leave it out (see `FailureDetails.from_exception`).
DRIVER_MODULE = __name__


@dataclass(frozen=True, slots=True)
class Finished:
    """The orchestrator returned `value`, or raised `error`."""

    value: Any = None
    error: BaseException | None = None


def _async_error(name: str) -> InvalidOrchestratorError:
    return InvalidOrchestratorError(
        f"Orchestrator function '{name}' is declared with `async def`. Orchestrators must be "
        "generator functions: declare it with `def` and `yield` each task instead of "
        "awaiting it, e.g. `result = yield context.call_activity('name', input_)`."
    )


class OrchestratorDriver:
    def __init__(self, fn: Orchestrator, context: Any, name: str) -> None:
        self._fn = fn
        self._context = context
        self._name = name
        self._gen: Generator[Any, Any, Any] | None = None
        self._waiting_on: Task[Any] | None = None
        self._running = False
        self.started = False
        self.finished: Finished | None = None

    def start(self) -> None:
        self.started = True
        if inspect.iscoroutinefunction(self._fn) or inspect.isasyncgenfunction(self._fn):
            self._finish(error=_async_error(self._name))
            return
        self._running = True
        try:
            returned = self._fn(self._context)
        except USER_ERRORS as exc:
            self._finish(error=exc)
            return
        finally:
            self._running = False
        if isinstance(returned, GeneratorType):
            self._gen = returned
            self._step(None, None)
            self.resume()
        elif inspect.iscoroutine(returned) or inspect.isasyncgen(returned):
            _close(returned)
            self._finish(error=_async_error(self._name))
        elif isinstance(returned, Task):
            self._finish(
                error=InvalidOrchestratorError(
                    f"Orchestrator function '{self._name}' returned a task instead of yielding "
                    "it. Write `result = yield context.call_activity(...)` (and `yield` the "
                    "result of task_all / task_any too)."
                )
            )
        else:
            # The SDK accepts a plain function: it completes at once with its return value.
            self._finish(value=returned)

    def resume(self) -> None:
        """Feed completed tasks back until the orchestrator waits on an incomplete one."""
        while self.finished is None and self._waiting_on is not None:
            task = self._waiting_on
            if not task.is_completed:
                return
            self._step(task._value, task.exception)

    def stop(self) -> None:
        """Close the generator so its `finally` blocks run now, not whenever it is collected."""
        self._waiting_on = None
        if self._gen is not None:
            _close(self._gen)
            self._gen = None

    def location(self) -> str | None:
        """Where the orchestrator is: the calling line while it runs, else its current yield."""
        if self._running:
            return caller_location()
        gen: Any = self._gen
        while isinstance(getattr(gen, "gi_yieldfrom", None), GeneratorType):
            gen = gen.gi_yieldfrom
        return frame_location(gen.gi_frame) if gen is not None else None

    def _step(self, value: Any, error: BaseException | None) -> None:
        """Send `value` into the generator, or raise `error` at its yield."""
        gen = self._gen
        assert gen is not None
        self._waiting_on = None
        self._running = True
        try:
            yielded = gen.throw(error) if error is not None else gen.send(value)
        except StopIteration as stop:
            self._finish(value=stop.value)
            return
        except USER_ERRORS as exc:
            self._finish(error=exc)
            return
        finally:
            self._running = False
        if isinstance(yielded, Task):
            # A task takes its sequence number and its action when first yielded (the SDK's
            # rule); yielding it again, or one already scheduled inside a task_all, is free.
            yielded._schedule()
            self._waiting_on = yielded
        else:
            self._finish(error=self._bad_yield(yielded))
            self.stop()

    def _bad_yield(self, yielded: object) -> InvalidOrchestratorError:
        where = self.location()
        at = f" at {where}" if where else ""
        prefix = f"Orchestrator function '{self._name}' yielded"
        if isinstance(yielded, GeneratorType):
            helper = yielded.gi_code.co_name
            _close(yielded)
            return InvalidOrchestratorError(
                f"{prefix} the generator {helper}(){at} instead of a task. To run a helper "
                f"generator inside an orchestrator, write `result = yield from {helper}(...)`."
            )
        if inspect.iscoroutine(yielded):
            _close(yielded)
            return InvalidOrchestratorError(
                f"{prefix} a coroutine{at}. Orchestrators cannot run async functions; run "
                "async work in an activity and `yield context.call_activity(...)`."
            )
        if isinstance(yielded, list | tuple | set):
            return InvalidOrchestratorError(
                f"{prefix} a {type(yielded).__name__}{at}. To wait for several tasks, write "
                "`yield context.task_all(tasks)` (or `context.task_any(tasks)`)."
            )
        return InvalidOrchestratorError(
            f"{prefix} {type(yielded).__name__} {_short_repr(yielded)}{at}. Yield only tasks "
            "returned by the context (call_activity, call_sub_orchestrator, create_timer, "
            "wait_for_external_event, task_all, task_any, call_entity)."
        )

    def _finish(self, value: Any = None, error: BaseException | None = None) -> None:
        self.finished = Finished(value=value, error=error)


def _close(obj: Any) -> None:
    # A user finally-block failing while the generator is closed changes nothing.
    with contextlib.suppress(Exception):
        obj.close()


def _short_repr(value: object) -> str:
    try:
        return repr(value)[:80]
    except Exception:  # a user's __repr__ may fail; the type name still says enough
        return f"<{type(value).__name__} object>"
