"""The durable registry: orchestrators, activities and entities of this process.

They are kept out of `get_functions()` on purpose (DESIGN.md, compatibility rules): a real
Functions host that saw an `orchestrationTrigger` binding would wake Azure's own Durable
extension. Our dispatcher Functions find user code here instead.

The registry is process-wide because dispatchers registered by one container (a `DFApp`, or
the first `Blueprint` on a plain `FunctionApp`) must run code registered by any other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from durable.errors import FunctionRegistrationError


class DurableKind(StrEnum):
    ORCHESTRATOR = "orchestrator"
    ACTIVITY = "activity"
    ENTITY = "entity"


@dataclass(frozen=True)
class DurableFunction:
    kind: DurableKind
    name: str
    func: Callable[..., Any]
    # The parameter the user named in the decorator (context_name / input_name).
    param_name: str

    def call(self, value: Any) -> Any:
        return self.func(**{self.param_name: value})


class DurableRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, DurableFunction] = {}

    def add(self, fn: DurableFunction) -> None:
        existing = self._functions.get(fn.name)
        if existing is not None and not _same_definition(existing.func, fn.func):
            raise FunctionRegistrationError(
                f"Two durable functions are named {fn.name!r} ({existing.kind.value} "
                f"{_where(existing.func)} and {fn.kind.value} {_where(fn.func)}). "
                "Function names must be unique in an app: rename one, or pass a name to "
                "the decorator (orchestration=/activity=/entity_name=)."
            )
        self._functions[fn.name] = fn

    def get(self, kind: DurableKind, name: str) -> DurableFunction | None:
        fn = self._functions.get(name)
        if fn is None:
            # Durable Task matches activity names case-insensitively; so do we.
            lowered = name.lower()
            fn = next((f for f in self._functions.values() if f.name.lower() == lowered), None)
        return fn if fn is not None and fn.kind is kind else None

    def names(self, kind: DurableKind) -> list[str]:
        return sorted(f.name for f in self._functions.values() if f.kind is kind)

    def all(self) -> list[DurableFunction]:
        return list(self._functions.values())

    def clear(self) -> None:
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


registry = DurableRegistry()
