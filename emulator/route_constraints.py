"""Inline route constraints (`{id:int}`, `{name:alpha}`, `{n:range(1,10)}`, ...) with the
meaning ASP.NET Core gives them. A value failing a constraint makes the route not match."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Constraint:
    text: str
    check: Callable[[str], bool]

    def accepts(self, value: str) -> bool:
        try:
            return self.check(value)
        except (ValueError, OverflowError):
            return False


def _integer_in(bounds: tuple[int, int]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        return bool(_INTEGER.match(value)) and bounds[0] <= int(value) <= bounds[1]

    return check


def _is_float(value: str) -> bool:
    return math.isfinite(float(value))


def _is_datetime(value: str) -> bool:
    datetime.fromisoformat(value)
    return True


def _is_guid(value: str) -> bool:
    uuid.UUID(value)
    return True


_SIMPLE: dict[str, Callable[[str], bool]] = {
    "int": _integer_in(_INT32),
    "long": _integer_in(_INT64),
    "bool": lambda v: v.lower() in ("true", "false"),
    "datetime": _is_datetime,
    "decimal": _is_float,
    "double": _is_float,
    "float": _is_float,
    "guid": _is_guid,
    "alpha": lambda v: bool(re.fullmatch(r"[A-Za-z]+", v)),
    "required": lambda v: v != "",
}


def _numbers(args: str, count: int, name: str) -> list[int]:
    pieces = [a.strip() for a in args.split(",")]
    if len(pieces) != count or not all(_INTEGER.match(p) for p in pieces):
        raise ValueError(f"constraint '{name}' takes {count} integer argument(s), got '{args}'")
    return [int(p) for p in pieces]


def _with_arguments(name: str, args: str) -> Callable[[str], bool]:
    if name == "regex":
        pattern = re.compile(args, re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    if name == "length":
        bounds = _numbers(args, 2 if "," in args else 1, name)
        low, high = (bounds[0], bounds[-1])
        return lambda v: low <= len(v) <= high
    if name in ("minlength", "maxlength"):
        (limit,) = _numbers(args, 1, name)
        return (lambda v: len(v) >= limit) if name == "minlength" else (lambda v: len(v) <= limit)
    if name in ("min", "max"):
        (limit,) = _numbers(args, 1, name)
        integer = _integer_in(_INT64)
        if name == "min":
            return lambda v: integer(v) and int(v) >= limit
        return lambda v: integer(v) and int(v) <= limit
    if name == "range":
        low, high = _numbers(args, 2, name)
        integer = _integer_in(_INT64)
        return lambda v: integer(v) and low <= int(v) <= high
    raise ValueError(f"unknown route constraint '{name}'")


SUPPORTED = sorted([*_SIMPLE, "length", "maxlength", "minlength", "max", "min", "range", "regex"])


def parse_constraint(text: str) -> Constraint:
    """A constraint from its inline text (`int`, `min(1)`, `regex(^a.*$)`)."""
    found = re.fullmatch(r"([A-Za-z]+)(?:\((.*)\))?", text, re.DOTALL)
    if not found:
        raise ValueError(f"malformed constraint '{text}'")
    name, args = found.group(1).lower(), found.group(2)
    if args is None:
        if name not in _SIMPLE:
            raise ValueError(
                f"unknown route constraint '{text}' (supported: {', '.join(SUPPORTED)})"
            )
        return Constraint(text, _SIMPLE[name])
    try:
        return Constraint(text, _with_arguments(name, args))
    except re.error as exc:
        raise ValueError(f"invalid regex in constraint '{text}': {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{exc} (supported: {', '.join(SUPPORTED)})") from None
