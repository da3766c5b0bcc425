"""What `fn.build()` gives back for a durable function: the SDK's unit-test idiom.

With the SDK, a decorated orchestrator is a `FunctionBuilder`, and tests reach the user's
generator with `my_orchestrator.build().get_user_function().orchestrator_function` (an
entity's with `.entity_function`; an activity's `get_user_function()` is the activity
itself). Our decorators keep the user's function as it is (it stays callable and
`context.call_activity(fn)` still names it), and give it a `build()` method that answers
the same chain, and `fn._function._func` (the handle itself). The handles are the SDK's
`Orchestrator.create(fn)` and `Entity.create(fn)`: they take a trigger payload and answer
with the SDK's state JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from durable.core.registry import NAME_ATTRIBUTE, DurableKind
from durable.core.sdk_entity import Entity
from durable.core.sdk_orchestrator import Orchestrator

BUILD_ATTRIBUTE = "build"
FUNCTION_ATTRIBUTE = "_function"


def _entity_handle(fn: Callable[..., Any]) -> Callable[..., Any]:
    handle = Entity.create(fn)
    handle.__name__ = getattr(fn, "__name__", "entity")
    return handle


def _orchestrator_handle(fn: Callable[..., Any]) -> Callable[..., Any]:
    handle = Orchestrator.create(fn)
    handle.__name__ = getattr(fn, "__name__", "orchestrator")
    return handle


def _activity_handle(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


# How each kind's user function is presented, as the SDK wraps it.
_HANDLES: dict[DurableKind, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    DurableKind.ORCHESTRATOR: _orchestrator_handle,
    DurableKind.ACTIVITY: _activity_handle,
    DurableKind.ENTITY: _entity_handle,
}


class BuiltDurableFunction:
    """The `Function` object `build()` returns, for the parts unit tests use."""

    def __init__(self, fn: Callable[..., Any], kind: DurableKind) -> None:
        self._fn = fn
        self._kind = kind

    def get_user_function(self) -> Callable[..., Any]:
        """The SDK's handle around the user's function (see the module docstring)."""
        return _HANDLES[self._kind](self._fn)

    def get_function_name(self) -> str:
        """The name the function is registered under (after `@app.function_name`)."""
        return str(getattr(self._fn, NAME_ATTRIBUTE, getattr(self._fn, "__name__", "")))


class _HandleView:
    """`fn._function._func`: the SDK's handle, as tests reach it on a `FunctionBuilder`.

    Only `_func` is offered (no `get_user_function`), so that code that unwraps a
    `FunctionBuilder` to the user's function still finds `fn` itself.
    """

    def __init__(self, fn: Callable[..., Any], kind: DurableKind) -> None:
        self._fn = fn
        self._kind = kind

    @property
    def _func(self) -> Callable[..., Any]:
        handle = _HANDLES[self._kind](self._fn)
        if handle is not self._fn:
            handle.__wrapped__ = self._fn  # type: ignore[attr-defined]
        return handle


def attach_build(fn: Callable[..., Any], kind: DurableKind) -> None:
    """Give a registered durable function the SDK's `build(auth_level=None)` and
    `_function._func`."""

    def build(auth_level: Any = None) -> BuiltDurableFunction:
        return BuiltDurableFunction(fn, kind)

    setattr(fn, BUILD_ATTRIBUTE, build)
    setattr(fn, FUNCTION_ATTRIBUTE, _HandleView(fn, kind))
