"""Run one invocation the way the Python worker does, and log it the way the host does.

`async def` functions run on the host's event loop; plain functions run on a thread pool of
`PYTHON_THREADPOOL_THREAD_COUNT` threads (default: Python's own `min(32, cpu_count + 4)`,
which is the worker's default on Python 3.9+). Output bindings are written only when the
function succeeds, as the worker returns them only then.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import azure.functions as func

from emulator import bindings
from emulator.errors import ConfigError
from emulator.functions import FunctionSpec
from emulator.logs import InvocationScope, current_invocation, host_logger
from emulator.tracebacks import app_traceback

QueueSink = Callable[[FunctionSpec, str, list[str | bytes]], Awaitable[None]]
"""Writes messages for the queue output binding of the given name."""
_log = host_logger()


class InvocationFailed(Exception):
    """The function (or writing its outputs) raised; the cause is chained."""


def thread_count() -> int | None:
    value = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(
            f"PYTHON_THREADPOOL_THREAD_COUNT must be a positive integer, got {value!r}."
        )
    return int(value)


class _Context(func.Context):
    def __init__(self, spec: FunctionSpec, invocation_id: str, directory: str) -> None:
        self._spec = spec
        self._invocation_id = invocation_id
        self._directory = directory
        self._local = threading.local()
        self._local.invocation_id = invocation_id

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._local

    @property
    def function_name(self) -> str:
        return self._spec.name

    @property
    def function_directory(self) -> str:
        return self._directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


class Invoker:
    def __init__(self, app_dir: Path, queue_sink: QueueSink) -> None:
        self._app_dir = str(app_dir)
        self._queue_sink = queue_sink
        self._pool = ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="func")
        self._active: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def active_count(self) -> int:
        return len(self._active)

    async def invoke(
        self, spec: FunctionSpec, trigger_value: Any, reason: str, details: str | None = None
    ) -> Any:
        """Run the function; returns the converted `$return` (an HttpResult for HTTP functions).

        Raises InvocationFailed when the function or one of its outputs fails."""
        task = asyncio.current_task()
        assert task is not None
        self._active.add(task)
        self._idle.clear()
        try:
            return await self._invoke_logged(spec, trigger_value, reason, details)
        finally:
            self._active.discard(task)
            if not self._active:
                self._idle.set()

    async def _invoke_logged(
        self, spec: FunctionSpec, trigger_value: Any, reason: str, details: str | None
    ) -> Any:
        invocation_id = str(uuid.uuid4())
        _log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
        if details:
            _log.info(details)
        started = time.perf_counter()
        token = current_invocation.set(InvocationScope(spec.name, invocation_id))
        try:
            result = await self._run(spec, trigger_value, invocation_id)
        except Exception as exc:
            self._log_failure(spec, invocation_id, started, exc)
            raise InvocationFailed(str(exc)) from exc
        finally:
            current_invocation.reset(token)
        _log.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)",
            spec.name, invocation_id, (time.perf_counter() - started) * 1000,
        )
        return result

    def _log_failure(self, spec: FunctionSpec, invocation_id: str, started: float,
                     exc: BaseException) -> None:
        _log.error(
            "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
            spec.name, invocation_id, (time.perf_counter() - started) * 1000,
        )
        stack = app_traceback(exc)
        hint = ""
        if isinstance(exc, TypeError) and "argument" in str(exc) and spec.unsupported:
            names = ", ".join(f"'{b.name}' ({b.type})" for b in spec.unsupported)
            hint = f"\nNote: this host does not supply these bindings: {names}."
        _log.error(
            "Exception while executing function: Functions.%s. Result: Failure\n"
            "Exception: %s: %s\nStack: %s%s",
            spec.name, type(exc).__name__, exc, stack, hint,
        )

    async def _run(self, spec: FunctionSpec, trigger_value: Any, invocation_id: str) -> Any:
        kwargs, outs = self._arguments(spec, trigger_value, invocation_id)
        if spec.is_async:
            value = await spec.func(**kwargs)
        else:
            context = contextvars.copy_context()
            call = functools.partial(context.run, spec.func, **kwargs)
            value = await asyncio.get_running_loop().run_in_executor(self._pool, call)
            if inspect.isawaitable(value):
                value = await value
        return await self._outputs(spec, value, outs)

    def _arguments(
        self, spec: FunctionSpec, trigger_value: Any, invocation_id: str
    ) -> tuple[dict[str, Any], dict[str, bindings.Out]]:
        kwargs: dict[str, Any] = {}
        outs: dict[str, bindings.Out] = {}
        if spec.trigger.name in spec.params:
            kwargs[spec.trigger.name] = trigger_value
        for binding in spec.outputs:
            if binding.name in spec.params:
                outs[binding.name] = kwargs[binding.name] = bindings.Out()
        if spec.context_param:
            kwargs[spec.context_param] = _Context(spec, invocation_id, self._app_dir)
        return kwargs, outs

    async def _outputs(self, spec: FunctionSpec, value: Any, outs: dict[str, bindings.Out]) -> Any:
        """Convert everything first, then write: a conversion error writes nothing."""
        writes: list[tuple[str, list[str | bytes]]] = []
        result: Any = None
        ret = spec.return_binding
        if ret is None:
            if value is not None:
                raise RuntimeError(
                    f"function '{spec.name}' without a $return binding returned a non-None value"
                )
        elif ret.type == "http":
            result = bindings.http_result(value)
        elif ret.type == "queue" and value is not None:
            writes.append((ret.name, bindings.queue_payloads(value)))
        for binding in spec.outputs:
            out = outs.get(binding.name)
            if binding.type == "queue" and out is not None and out.get() is not None:
                writes.append((binding.name, bindings.queue_payloads(out.get())))
        for name, payloads in writes:
            await self._queue_sink(spec, name, payloads)
        return result

    async def drain(self, timeout: float) -> bool:
        """Wait for running invocations; False if some are still running after `timeout`."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def close(self, wait: bool) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
