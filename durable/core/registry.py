"""The durable registry: orchestrators, activities and entities by name, and how a name is
read from what user code passes (a string, or the decorated function itself).

They are kept out of `get_functions()` on purpose (DESIGN.md, compatibility rules): a real
Functions host that saw an `orchestrationTrigger` binding would wake Azure's own Durable
extension. Our dispatcher Functions find user code here instead. Pure: the process-wide
instance belongs to the composition root (`durable.app.root`).
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from durable.errors import FunctionRegistrationError


class DurableKind(StrEnum):
    """The three kinds of durable function, spelled as their decorators are."""

    ORCHESTRATOR = "orchestrator"
    ACTIVITY = "activity"
    ENTITY = "entity"

    @property
    def plural(self) -> str:
        """For messages that list the known functions of a kind."""
        return "activities" if self is DurableKind.ACTIVITY else f"{self.value}s"


# Attributes the decorators set on a registered function, so that passing the function
# itself (`context.call_activity(say_hello)`) names it under its registered name.
NAME_ATTRIBUTE = "durable_function_name"
KIND_ATTRIBUTE = "durable_function_kind"
# The orchestration trigger's `input_type=`, kept on the function for in-memory test runs.
INPUT_TYPE_ATTRIBUTE = "durable_input_type"


# How the Functions model names each kind's trigger, for messages in the SDK's words.
TRIGGER_TYPES = {
    DurableKind.ORCHESTRATOR: "orchestrationTrigger",
    DurableKind.ACTIVITY: "activityTrigger",
    DurableKind.ENTITY: "entityTrigger",
}


def function_name(
    value: object, argument: str, kind: DurableKind | None = None, api: str = ""
) -> str:
    """The durable function `value` names: a non-empty string as it is, or (as the SDK's v2
    model accepts) the decorated function, by the name it was registered under.

    With `kind`, a function must be a durable function of that kind: as the SDK does, a
    plain callable or a function with another trigger is a ValueError at the call (`api`
    names the call in the message), not an unknown name failing one round trip later.
    """
    if isinstance(value, str):
        if not value:
            raise ValueError(f"{argument} must be a non-empty function name")
        return value
    registered = getattr(value, NAME_ATTRIBUTE, None)
    if isinstance(registered, str) and registered:
        if kind is not None:
            _check_kind(value, registered, kind)
        return registered
    inner = getattr(value, "_function", None)
    get_name = getattr(inner, "get_function_name", None)
    if callable(get_name):
        if kind is not None:
            _check_trigger(getattr(getattr(inner, "_trigger", None), "type", None), kind)
        return str(get_name())
    name = getattr(value, "__name__", None)
    if kind is not None and callable(value):
        raise ValueError(
            f"{api or argument} received the function {name or value!r}, which has no "
            f"Functions trigger: decorate it with @app.{_decorator(kind)}, or pass the "
            f"name of the {kind.value} function as a string."
        )
    if callable(value) and isinstance(name, str):
        return name
    raise ValueError(f"{argument} must be a function name (str) or a function, got {value!r}")


def return_type_of(value: object) -> type | None:
    """The concrete return type annotated on a decorated function (None: a name, no
    annotation, or a generic alias): the SDK decodes results as that type."""
    if isinstance(value, str):
        return None
    fn = getattr(getattr(value, "_function", None), "_func", None) or value
    if not callable(fn):
        return None
    fn = inspect.unwrap(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # a forward reference it cannot see: the raw annotation, if any
        hints = dict(getattr(fn, "__annotations__", {}) or {})
    annotation = hints.get("return")
    return annotation if isinstance(annotation, type) else None


def _check_kind(value: object, name: str, kind: DurableKind) -> None:
    actual = getattr(value, KIND_ATTRIBUTE, None)
    if actual is not None and actual != kind.value:
        _check_trigger(TRIGGER_TYPES.get(DurableKind(actual)), kind, name)


def _check_trigger(trigger: object, kind: DurableKind, name: str = "") -> None:
    expected = TRIGGER_TYPES[kind]
    if isinstance(trigger, str) and trigger != expected:
        what = f"function '{name}'" if name else "function"
        raise ValueError(
            f"Received a {what} with trigger type `{trigger}` but expected `{expected}`: "
            f"decorate it with @app.{_decorator(kind)}, or pass the name of the "
            f"{kind.value} function as a string."
        )


def _decorator(kind: DurableKind) -> str:
    return {
        DurableKind.ORCHESTRATOR: "orchestration_trigger",
        DurableKind.ACTIVITY: "activity_trigger",
        DurableKind.ENTITY: "entity_trigger",
    }[kind]


@dataclass(frozen=True)
class DurableFunction:
    """A registered durable function and how to call it."""

    kind: DurableKind
    name: str
    func: Callable[..., Any]
    # The parameter the user named in the decorator (context_name / input_name).
    param_name: str
    # An orchestrator's `input_type=`: what `context.get_input()` decodes the input as.
    input_type: type | None = None

    def call(self, value: Any) -> Any:
        """Call the user's function with `value` as the parameter its decorator named."""
        return self.func(**{self.param_name: value})


class DurableRegistry:
    """Durable functions by name; names are unique across kinds, as Function names are."""

    def __init__(self) -> None:
        self._functions: dict[str, DurableFunction] = {}

    def add(self, fn: DurableFunction) -> None:
        """Register `fn`; the same definition imported again replaces the older one."""
        existing = self._functions.get(fn.name)
        if existing is not None and not _same_definition(existing.func, fn.func):
            raise FunctionRegistrationError(
                f"Two durable functions are named {fn.name!r} ({existing.kind.value} "
                f"{_where(existing.func)} and {fn.kind.value} {_where(fn.func)}). "
                "Function names must be unique in an app: rename one, or pass a name to "
                "the decorator (orchestration=/activity=/entity_name=)."
            )
        self._functions[fn.name] = fn

    def rename(self, old_name: str, new_name: str) -> DurableFunction:
        """Register under `new_name` the function registered as `old_name` (what
        `@app.function_name(...)` stacked above a durable trigger does, as in the SDK)."""
        fn = self._functions.pop(old_name, None)
        if fn is None:
            raise FunctionRegistrationError(
                f"No durable function is registered as {old_name!r}, so it cannot be renamed "
                f"to {new_name!r}: put @app.function_name(...) above the durable trigger."
            )
        renamed = dataclasses.replace(fn, name=new_name)
        try:
            self.add(renamed)
        except FunctionRegistrationError:
            self._functions[old_name] = fn
            raise
        return renamed

    def get(self, kind: DurableKind, name: str) -> DurableFunction | None:
        """The function of that kind and name, or None."""
        fn = self._functions.get(name)
        if fn is None:
            # Durable Task matches activity names case-insensitively; so do we.
            lowered = name.lower()
            fn = next((f for f in self._functions.values() if f.name.lower() == lowered), None)
        return fn if fn is not None and fn.kind is kind else None

    def names(self, kind: DurableKind) -> list[str]:
        """The names of that kind, sorted (for listings and error messages)."""
        return sorted(f.name for f in self._functions.values() if f.kind is kind)

    def require(self, kind: DurableKind, name: str) -> None:
        """ValueError naming the known functions when the app registers functions of this
        kind but none named `name`; an app that registers none of them is not checked (a
        process that did not load the app cannot know)."""
        known = self.names(kind)
        if known and self.get(kind, name) is None:
            raise ValueError(
                f"The {kind.value} function '{name}' does not exist in this app "
                f"({kind.plural}: {', '.join(known)})."
            )

    def all(self) -> list[DurableFunction]:
        """Every registered function."""
        return list(self._functions.values())

    def clear(self) -> None:
        """Forget every function (a host reloading the app)."""
        self._functions.clear()


def _same_definition(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """The same function, or the same source definition imported again (a module reloaded
    by a test or a host): the newer one replaces the older."""
    if a is b:
        return True
    code_a = getattr(inspect.unwrap(a), "__code__", None)
    code_b = getattr(inspect.unwrap(b), "__code__", None)
    return (
        code_a is not None
        and code_b is not None
        and a.__qualname__ == b.__qualname__
        and code_a.co_filename == code_b.co_filename
        and code_a.co_firstlineno == code_b.co_firstlineno
    )


def _where(func: Callable[..., Any]) -> str:
    try:
        file = inspect.getsourcefile(func) or "?"
        line = inspect.getsourcelines(func)[1]
    except (OSError, TypeError):
        return f"'{getattr(func, '__qualname__', func)}'"
    return f"'{func.__qualname__}' at {file}:{line}"

