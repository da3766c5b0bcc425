"""Critical sections: an orchestration holding the locks of a set of entities.

`with (yield context.lock([e1, e2])):` asks for the locks (in a fixed order, so that two
orchestrations cannot deadlock), waits until all are held, and gives them back when the
block ends, also when it ends with an exception. Durable Functions for .NET has these; the
rules are its rules: inside a section an orchestration may call the entities it locked (one
call at a time per entity) and run activities, but may not start another section, start a
sub-orchestration, call an entity it did not lock, or signal one it did.

The generator of an orchestrator is closed between episodes when the runtime replays it
afresh (and when the host stops); Python then raises `GeneratorExit` at the `yield` inside
the block, which runs `__exit__`. That is not the orchestration leaving its section, so it
gives nothing back; only the orchestration's own exit from the block does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from durable.errors import LockingRulesViolationError


@dataclass
class CriticalSection:
    """The locks an orchestration holds: a context manager for the `with` block."""

    lock_id: str
    entities: tuple[str, ...]
    _release: Callable[[CriticalSection], None]
    calling: set[str] = field(default_factory=set)
    released: bool = False

    def __enter__(self) -> CriticalSection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and issubclass(exc_type, GeneratorExit):
            return  # the generator is being closed, not the section left
        self._release(self)

    def __repr__(self) -> str:
        state = "released" if self.released else "held"
        return f"<CriticalSection {list(self.entities)} {state}>"


def violation(rule: str) -> LockingRulesViolationError:
    """The error for breaking a rule of critical sections, naming the rule."""
    return LockingRulesViolationError(
        f"{rule} (rules of critical sections: call only the entities you locked, one call "
        "at a time each; signal only entities you did not lock; no sub-orchestrations and "
        "no nested sections inside a section)."
    )
