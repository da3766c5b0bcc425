"""Run one invocation the way the Python worker does, and log it the way the host does.

`async def` functions run on the host's event loop; plain functions run on a thread pool of
`PYTHON_THREADPOOL_THREAD_COUNT` threads (default: Python's own `min(32, cpu_count + 4)`,
which is the worker's default on Python 3.9+). Input bindings are read before the call
(emulator.binding_io); output bindings are written only when the function succeeds, as the
worker returns them only then. A function with a retry policy the host applies (see
emulator.retry) runs again after a failure, each attempt a new invocation.
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
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import azure.functions as func

from emulator import bindings
from emulator.binding_io import BindingIO, Prepared, Write
from emulator.errors import ConfigError
from emulator.functions import RETURN, FunctionSpec
from emulator.logs import InvocationScope, current_invocation, host_logger
from emulator.retry import RetryContext, RetryPolicy, format_delay
from emulator.tracebacks import app_traceback

_log = host_logger()


class InvocationFailed(Exception):
    """The function (or writing its outputs) raised; the cause is chained."""


class UnsupportedBindingError(RuntimeError):
    """The function has a binding this host cannot serve, so it is not run at all."""


def unsupported_message(spec: FunctionSpec) -> str:
    names = ", ".join(f"'{b.name}' ({b.type}, {b.direction})" for b in spec.unsupported)
    return (f"function '{spec.name}' was not run: this host cannot serve its binding(s) "
            f"{names}. Bindings it serves: HTTP, queue, blob and table; run this function on "
            "Azure (or against the real service with Core Tools), or use the service's SDK "
            "inside the function instead of the binding.")


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
    def __init__(self, spec: FunctionSpec, invocation_id: str, directory: str,
                 retry: RetryContext | None) -> None:
        self._spec = spec
        self._invocation_id = invocation_id
        self._directory = directory
        self._retry = retry
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
        return self._retry


class Invoker:
    def __init__(self, app_dir: Path, io: BindingIO,
                 retries: Mapping[str, RetryPolicy] | None = None) -> None:
        self._app_dir = str(app_dir)
        self._io = io
        self._retries = dict(retries or {})
        self._pool = ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="func")
        self._active: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()

    @property
    def active_count(self) -> int:
        return len(self._active)

    def begin_shutdown(self) -> None:
        """Retries waiting for their delay give up (as the host cancels them on stop)."""
        self._stopping.set()

    async def invoke(
        self, spec: FunctionSpec, trigger_value: Any, reason: str, details: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run the function (again after failures, if it has a retry policy the host applies);
        returns the converted `$return` (an HttpResult for HTTP functions).

        Raises InvocationFailed when the function or one of its bindings fails."""
        task = asyncio.current_task()
        assert task is not None
        self._active.add(task)
        self._idle.clear()
        try:
            return await self._with_retries(spec, trigger_value, reason, details, data or {})
        finally:
            self._active.discard(task)
            if not self._active:
                self._idle.set()

    async def _with_retries(self, spec: FunctionSpec, trigger_value: Any, reason: str,
                            details: str | None, data: Mapping[str, Any]) -> Any:
        policy = self._retries.get(spec.name)
        if policy is None:
            return await self._invoke_logged(spec, trigger_value, reason, details, data, None)
        backoff = policy.delays()
        retry = RetryContext(0, policy.max_retry_count)
        while True:
            try:
                return await self._invoke_logged(spec, trigger_value, reason, details, data,
                                                 retry)
            except InvocationFailed as failure:
                if not policy.allows(retry.retry_count):
                    _log.error("All %d retries of 'Functions.%s' failed.", retry.retry_count,
                               spec.name)
                    raise
                delay = backoff.next()
                _log.info("Waiting for `%s` before retrying function execution. Next attempt: "
                          "'%d'. Max retry count: '%d'.", format_delay(delay),
                          retry.retry_count + 1, policy.max_retry_count)
                if await self._stopped_within(delay):
                    _log.info("Host stopping: no more retries of 'Functions.%s'.", spec.name)
                    raise
                retry = RetryContext(retry.retry_count + 1, policy.max_retry_count,
                                     failure.__cause__)

    async def _stopped_within(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _invoke_logged(
        self, spec: FunctionSpec, trigger_value: Any, reason: str, details: str | None,
        data: Mapping[str, Any], retry: RetryContext | None,
    ) -> Any:
        invocation_id = str(uuid.uuid4())
        _log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation_id)
        if details:
            _log.info(details)
        started = time.perf_counter()
        token = current_invocation.set(InvocationScope(spec.name, invocation_id))
        try:
            result = await self._run(spec, trigger_value, invocation_id, data, retry)
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
        _log.error(
            "Exception while executing function: Functions.%s. Result: Failure\n"
            "Exception: %s: %s\nStack: %s",
            spec.name, type(exc).__name__, exc, app_traceback(exc),
        )

    async def _run(self, spec: FunctionSpec, trigger_value: Any, invocation_id: str,
                   data: Mapping[str, Any], retry: RetryContext | None) -> Any:
        if spec.unsupported:
            raise UnsupportedBindingError(unsupported_message(spec))
        prepared = await self._io.prepare(spec, data)
        kwargs, outs = self._arguments(spec, trigger_value, invocation_id, prepared, retry)
        if spec.is_async:
            value = await spec.func(**kwargs)
        else:
            context = contextvars.copy_context()
            call = functools.partial(context.run, spec.func, **kwargs)
            value = await asyncio.get_running_loop().run_in_executor(self._pool, call)
            if inspect.isawaitable(value):
                value = await value
        return await self._outputs(spec, value, outs, prepared)

    def _arguments(
        self, spec: FunctionSpec, trigger_value: Any, invocation_id: str, prepared: Prepared,
        retry: RetryContext | None,
    ) -> tuple[dict[str, Any], dict[str, bindings.Out]]:
        kwargs: dict[str, Any] = dict(prepared.inputs)
        outs: dict[str, bindings.Out] = {}
        if spec.trigger.name in spec.params:
            kwargs[spec.trigger.name] = trigger_value
        for binding in spec.outputs:
            if binding.name in spec.params:
                outs[binding.name] = kwargs[binding.name] = bindings.Out()
        if spec.context_param:
            kwargs[spec.context_param] = _Context(spec, invocation_id, self._app_dir, retry)
        return kwargs, outs

    async def _outputs(self, spec: FunctionSpec, value: Any, outs: dict[str, bindings.Out],
                       prepared: Prepared) -> Any:
        """Convert everything first, then write: a conversion error writes nothing."""
        writes: list[Write] = []
        result: Any = None
        ret = spec.return_binding
        if ret is None:
            if value is not None:
                raise RuntimeError(
                    f"function '{spec.name}' without a $return binding returned a non-None value"
                )
        elif ret.type == "http":
            result = bindings.http_result(value)
        elif value is not None:
            writes.append(self._io.convert(spec, ret, prepared.places[RETURN], value))
        for binding in spec.outputs:
            out = outs.get(binding.name)
            if out is not None and out.get() is not None:
                writes.append(self._io.convert(spec, binding, prepared.places[binding.name],
                                               out.get()))
        await self._io.commit(writes)
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
