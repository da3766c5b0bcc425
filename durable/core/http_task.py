"""The task of `context.call_http`: a request, and Durable Functions' asynchronous pattern.

When the answer is `202 Accepted` with a `Location` header (and the request keeps
`asynchronousPatternEnabled`), the task waits on a durable timer (the `Retry-After` seconds,
else the default polling interval) and then asks for the Location with a GET, until another
status comes back: the extension's loop, each step a recorded task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from durable.core.http import DurableHttpRequest, DurableHttpResponse
from durable.core.task import AtomicTask, Task, TimerTask
from durable.errors import HTTP_CALL_ERRORS, HttpCallError, TaskFailedError


class HttpTask(Task[DurableHttpResponse]):
    """The task of `call_http`: one request, then (202 + Location) timer and poll, repeated.

    History shape is the extension's: TaskScheduled n (BuiltIn::HttpActivity), TaskCompleted
    n, TimerCreated n+1, TimerFired n+1, TaskScheduled n+2 (the GET of the Location), ...
    A request that got no response fails the task with the HttpCallError subclass the
    runtime raised (connection, timeout, token), so the orchestrator can catch it.
    """

    def __init__(
        self,
        request: DurableHttpRequest,
        send: Callable[[DurableHttpRequest], AtomicTask],
        create_timer: Callable[[datetime], TimerTask],
        clock: Callable[[], datetime],
        poll_interval: Callable[[], timedelta],
    ) -> None:
        super().__init__()
        self.request = request
        self._send = send
        self._create_timer = create_timer
        self._clock = clock
        self._poll_interval = poll_interval
        self._started = False
        self.requests = 0

    def _schedule(self) -> None:
        if not self._started:
            self._started = True
            self._start(self.request)

    def _start(self, request: DurableHttpRequest) -> None:
        self.requests += 1
        attempt = self._send(request)
        attempt._schedule()
        attempt._add_done_callback(self._on_response)

    def _on_response(self, attempt: Task[Any]) -> None:
        error = attempt.exception
        if error is not None:
            self._set_exception(_specific(error))
            return
        response = attempt._value
        assert isinstance(response, DurableHttpResponse)
        location = response.header("Location")
        if response.status_code != 202 or not self.request.asynchronous_pattern_enabled or (
            location is None
        ):
            self._set_result(response)
            return
        poll = self.request.poll(location)
        timer = self._create_timer(self._clock() + self._delay(response))
        timer._schedule()
        timer._add_done_callback(lambda _timer: self._start(poll))

    def _delay(self, response: DurableHttpResponse) -> timedelta:
        retry_after = (response.header("Retry-After") or "").strip()
        if retry_after.isdigit():
            return timedelta(seconds=int(retry_after))
        return self._poll_interval()

    def _describe(self) -> str:
        return f"call_http {self.request.method} {self.request.uri}"


def _specific(error: BaseException) -> BaseException:
    """A failed request as the HttpCallError subclass the runtime raised, when it was one."""
    if not isinstance(error, TaskFailedError) or isinstance(error, HttpCallError):
        return error
    cls = HTTP_CALL_ERRORS.get(error.error_type)
    if cls is None:
        return error
    return cls(error.message, stack_trace=error.stack_trace,
               failure_details=error.failure_details, task_name=error.task_name)
