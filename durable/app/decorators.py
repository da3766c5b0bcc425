"""`DFApp` and `Blueprint`: the decorators of azure-functions-durable's v2 model.

Orchestrators, activities and entities go to the durable registry, never into
`get_functions()`. What a Functions host indexes is only standard triggers: queue-triggered
dispatchers on the task hub's control and work-item queues, and the HTTP management API.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

import azure.functions as func
from azure.functions.decorators.function_app import DecoratorApi, FunctionBuilder

from durable.app.builds import attach_build
from durable.app.dispatchers import register_dispatchers
from durable.app.root import process
from durable.core.registry import (
    INPUT_TYPE_ATTRIBUTE,
    KIND_ATTRIBUTE,
    NAME_ATTRIBUTE,
    DurableFunction,
    DurableKind,
)
from durable.errors import FunctionRegistrationError

# Names of the dispatcher Functions; a container that already has them skips a blueprint's.
DISPATCHER_PREFIX = "durable_"


class _DurableDecorators(DecoratorApi):
    """The durable decorators shared by `DFApp` and `Blueprint`."""

    _durable_names: list[tuple[str, str]]

    def _init_durable(self, with_dispatchers: bool) -> None:
        self._durable_names = []
        if with_dispatchers:
            register_dispatchers(self)

    def orchestration_trigger(
        self,
        context_name: str,
        orchestration: str | None = None,
        input_type: type | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a generator function as orchestrator `orchestration` (default: its name).

        The function gets a `DurableOrchestrationContext` as `context_name`; with
        `input_type`, `context.get_input()` decodes the input as that type (as the SDK).
        """

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            user_fn = _unwrap(fn)
            if inspect.iscoroutinefunction(user_fn) or inspect.isasyncgenfunction(user_fn):
                raise FunctionRegistrationError(
                    f"Orchestrator '{user_fn.__name__}' is declared 'async def'. Orchestrators "
                    "must be generator functions ('def' with 'yield context.call_activity(...)'); "
                    "durable tasks are awaited with 'yield', not 'await'."
                )
            if input_type is not None:
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(fn, INPUT_TYPE_ATTRIBUTE, input_type)
            return self._add_durable(
                DurableKind.ORCHESTRATOR, orchestration, context_name, fn, input_type
            )

        return decorator

    def activity_trigger(
        self, input_name: str, activity: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a function (`def` or `async def`) as activity `activity`.

        The name defaults to the function's; the function gets the input as `input_name`.
        """

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return self._add_durable(DurableKind.ACTIVITY, activity, input_name, fn)

        return decorator

    def entity_trigger(
        self, context_name: str, entity_name: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a function as entity `entity_name` (default: the function's name).

        The function gets a `DurableEntityContext` as `context_name`.
        """

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            user_fn = _unwrap(fn)
            if inspect.iscoroutinefunction(user_fn) or inspect.isgeneratorfunction(user_fn):
                kind = "async def" if inspect.iscoroutinefunction(user_fn) else "a generator"
                raise FunctionRegistrationError(
                    f"Entity '{user_fn.__name__}' is {kind}. Entity functions are plain "
                    "'def' functions that read and set state through the context; run "
                    "async or waiting work in an activity or an orchestration instead."
                )
            return self._add_durable(DurableKind.ENTITY, entity_name, context_name, fn)

        return decorator

    def durable_client_input(
        self,
        client_name: str,
        task_hub: str | None = None,
        connection_name: str | None = None,
    ) -> Callable[..., Any]:
        """Inject a `DurableOrchestrationClient` as `client_name`.

        No `durableClient` binding is added: the parameter is removed from the function's
        signature and filled in by a wrapper, so any Functions host can call it.
        """

        def wrap(fb: FunctionBuilder) -> FunctionBuilder:
            user_fn = fb._function._func
            fb._function._func = _inject_client(user_fn, client_name, task_hub, connection_name)
            return fb

        configured: Callable[..., Any] = self._configure_function_builder(wrap)
        return configured

    def get_durable_functions(self) -> list[tuple[str, str]]:
        """(kind, name) of the durable functions this container registered; hosts list them."""
        return list(self._durable_names)

    def _add_durable(
        self,
        kind: DurableKind,
        name: str | None,
        param: str,
        fn: Callable[..., Any],
        input_type: type | None = None,
    ) -> Callable[..., Any]:
        if isinstance(fn, FunctionBuilder):
            named = self._take_named(fn)
            if named is not None:  # @app.function_name below the trigger: the same, as the SDK
                return self._add_durable(kind, named[1], param, named[0], input_type)
            raise FunctionRegistrationError(
                f"@{kind.value}_trigger must be the decorator closest to the function "
                f"'{fn._function.get_function_name()}'; other Functions decorators cannot be "
                "combined with it (give the name through the decorator's own argument)."
            )
        user_fn = _unwrap(fn)
        params = inspect.signature(user_fn).parameters
        if param not in params:
            raise FunctionRegistrationError(
                f"{kind.value.capitalize()} '{user_fn.__name__}' has no parameter named "
                f"{param!r}, which its decorator names. Parameters: {', '.join(params) or 'none'}."
            )
        final_name = name or user_fn.__name__
        process.registry.add(DurableFunction(kind, final_name, fn, param, input_type))
        # Lets `context.call_activity(fn)` name a function registered under another name.
        with contextlib.suppress(AttributeError, TypeError):
            setattr(fn, NAME_ATTRIBUTE, final_name)
            setattr(fn, KIND_ATTRIBUTE, kind.value)
            attach_build(fn, kind)
        self._durable_names.append((kind.value, final_name))
        return fn

    def _take_named(self, fb: FunctionBuilder) -> tuple[Callable[..., Any], str] | None:
        """The (user function, name) of a builder that only `function_name` made.

        Such a builder (no trigger, no bindings) is taken back from this container; any
        other builder gives None.
        """
        function = fb._function
        only_named = all(s.setting_name == "function_name" for s in function._settings)
        if function._trigger is not None or function._bindings or not only_named:
            return None
        if not any(b is fb for b in self._function_builders):
            return None
        self._function_builders = [b for b in self._function_builders if b is not fb]
        return function._func, str(function.get_function_name())

    def function_name(
        self, name: str, setting_extra_fields: dict[str, Any] | None = None
    ) -> Callable[..., Any]:
        """Set a Function's name; above a durable trigger, the durable function's name.

        As with the SDK, `@app.function_name("x")` stacked above `@app.orchestration_trigger`
        (or an activity or entity trigger) registers that function as "x".
        """
        standard: Callable[..., Any] = super().function_name(name, setting_extra_fields)

        def decorator(fn: Any) -> Any:
            kind = getattr(fn, KIND_ATTRIBUTE, None)
            old = getattr(fn, NAME_ATTRIBUTE, None)
            if isinstance(fn, FunctionBuilder) or kind is None or not isinstance(old, str):
                return standard(fn)
            if not isinstance(name, str) or not name:
                raise FunctionRegistrationError(
                    f"@app.function_name needs a non-empty name, got {name!r}."
                )
            process.registry.rename(old, name)
            setattr(fn, NAME_ATTRIBUTE, name)
            self._durable_names = [
                (k, name if (k, n) == (kind, old) else n) for k, n in self._durable_names
            ]
            return fn

        return decorator


class DFApp(_DurableDecorators, func.FunctionApp):
    """A Functions app with durable decorators (`import durable as df; app = df.DFApp()`)."""

    def __init__(
        self, http_auth_level: func.AuthLevel | str = func.AuthLevel.FUNCTION
    ) -> None:
        func.FunctionApp.__init__(self, http_auth_level=http_auth_level)  # type: ignore[no-untyped-call, unused-ignore]
        self._init_durable(with_dispatchers=True)
        process.dispatchers_taken = True

    def register_functions(self, function_container: DecoratorApi) -> None:
        """Register a blueprint's functions, leaving out dispatchers this app already has."""
        if isinstance(function_container, _DurableDecorators):
            mine = {fb._function.get_function_name() for fb in self._function_builders}
            for fb in function_container._function_builders:
                fname = fb._function.get_function_name() or ""
                if not (fname.startswith(DISPATCHER_PREFIX) and fname in mine):
                    self._function_builders.append(fb)
            self._durable_names.extend(function_container._durable_names)
            return
        super().register_functions(function_container)

    register_blueprint = register_functions


class Blueprint(_DurableDecorators, func.Blueprint):
    """Durable decorators in a blueprint, registrable on a `DFApp` or a plain `FunctionApp`."""

    def __init__(
        self, http_auth_level: func.AuthLevel | str = func.AuthLevel.FUNCTION
    ) -> None:
        """A blueprint; `http_auth_level` is accepted as the SDK accepts it.

        As there, the HTTP functions of a registered blueprint get the auth level of the
        app that registers it.
        """
        func.Blueprint.__init__(self)  # type: ignore[no-untyped-call]
        self.http_auth_level = http_auth_level
        self._init_durable(with_dispatchers=not process.dispatchers_taken)
        process.dispatchers_taken = True


def _unwrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    unwrapped: Callable[..., Any] = inspect.unwrap(fn)
    return unwrapped


def _inject_client(
    user_fn: Callable[..., Any],
    client_name: str,
    task_hub: str | None,
    connection_name: str | None,
) -> Callable[..., Any]:
    sig = inspect.signature(user_fn)
    if client_name not in sig.parameters:
        raise FunctionRegistrationError(
            f"Function '{user_fn.__name__}' has no parameter named {client_name!r}, which "
            "@durable_client_input(client_name=...) names."
        )
    params = [p for p in sig.parameters.values() if p.name != client_name]

    def client() -> Any:
        return process.client(task_hub, connection_name)

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(user_fn):

        @functools.wraps(user_fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[client_name] = client()
            return await user_fn(*args, **kwargs)

        wrapper = async_wrapper
    else:

        @functools.wraps(user_fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[client_name] = client()
            return user_fn(*args, **kwargs)

        wrapper = sync_wrapper
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[union-attr]
    # The SDK's unit-test idiom: `fn.build().get_user_function().client_function`.
    setattr(wrapper, "client_function", user_fn)  # noqa: B010
    wrapper.__annotations__ = {
        k: v for k, v in getattr(user_fn, "__annotations__", {}).items() if k != client_name
    }
    return wrapper
