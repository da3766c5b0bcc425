"""Binding expressions, as the Functions host reads them in paths, table keys and filters.

A template mixes literal text and `{expression}` tokens (`{{` and `}}` are literal braces).
An expression is a name looked up (case-insensitively) in the trigger's binding data, with
dots to reach into JSON objects (`{Query.id}`, `{order.customer}`); or a built-in that the
binding data does not define: `{rand-guid}` (a new GUID each time a binding is resolved) and
`{DateTime}` (the current UTC time), both with an optional `:format` (`{rand-guid:N}`,
`{DateTime:yyyy-MM-dd}`, .NET format strings). `%Setting%` references are replaced before,
when the plan is built (see emulator.plan).

A trigger path such as `samples/{name}.{ext}` is also a pattern: `capture()` matches a blob
name against it and returns the values its expressions stand for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")
_NAME = re.compile(r"^[A-Za-z_][\w\-]*(\.[A-Za-z_][\w\-]*)*$")
DEFAULT_DATETIME_FORMAT = "yyyy-MM-ddTHH-mm-ssK"
# .NET custom date and time specifiers this host understands, longest first.
_DOTNET_DATE = [
    ("yyyy", "%Y"), ("yy", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("dddd", "%A"),
    ("ddd", "%a"), ("dd", "%d"), ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"),
    ("fff", "%f3"), ("tt", "%p"), ("K", "Z"), ("M", "%-m"), ("d", "%-d"), ("H", "%-H"),
]


class ExpressionError(ValueError):
    """A template that cannot be parsed, or an expression with no value."""


@dataclass(frozen=True)
class Token:
    literal: str | None = None  # literal text, or None for an expression
    parts: tuple[str, ...] = ()  # the expression's dotted name
    format: str | None = None  # text after ':'


@dataclass(frozen=True)
class Template:
    text: str
    tokens: tuple[Token, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The first part of every expression, in order."""
        return tuple(t.parts[0] for t in self.tokens if t.literal is None)

    @property
    def is_literal(self) -> bool:
        return all(t.literal is not None for t in self.tokens)

    def resolve(self, data: Mapping[str, Any]) -> str:
        """The template with each expression replaced by its value in `data` (or a built-in)."""
        lookup = {k.lower(): v for k, v in data.items()}
        return "".join(t.literal if t.literal is not None else _evaluate(t, lookup)
                       for t in self.tokens)

    def capture(self, value: str) -> dict[str, str] | None:
        """The expressions' values if `value` matches the template as a pattern, else None."""
        found = self._pattern().match(value)
        if found is None:
            return None
        names = [t.parts[0] for t in self.tokens if t.literal is None]
        return {name: found.group(f"g{i}") for i, name in enumerate(names)}

    def _pattern(self) -> re.Pattern[str]:
        pieces: list[str] = []
        index = 0
        for token in self.tokens:
            if token.literal is not None:
                pieces.append(re.escape(token.literal))
            else:
                pieces.append(f"(?P<g{index}>.*)")
                index += 1
        return re.compile("^" + "".join(pieces) + "$", re.DOTALL)


def parse(text: str) -> Template:
    """Parse a template; ExpressionError names the offending part."""
    tokens: list[Token] = []
    for found in _TOKEN.finditer(text):
        piece = found.group(0)
        if piece in ("{{", "}}"):
            tokens.append(Token(literal=piece[0]))
        elif piece in ("{", "}"):
            raise ExpressionError(f"'{text}' has an unbalanced '{piece}'.")
        elif found.group(1) is not None:
            tokens.append(_expression(found.group(1), text))
        else:
            tokens.append(Token(literal=piece))
    return Template(text, tuple(tokens))


def _expression(body: str, text: str) -> Token:
    name, _, fmt = body.partition(":")
    name = name.strip()
    if not _NAME.match(name):
        raise ExpressionError(f"'{text}' has an invalid binding expression '{{{body}}}'.")
    return Token(parts=tuple(name.split(".")), format=fmt or None)


def _evaluate(token: Token, data: Mapping[str, Any]) -> str:
    head = token.parts[0].lower()
    if head in data:
        current = data[head]
        for part in token.parts[1:]:
            current = _member(current, part, token)
        text = to_text(current, token.format)
        if text is None:
            raise ExpressionError(
                f"The binding expression '{{{'.'.join(token.parts)}}}' is not a simple value "
                f"(got {type(current).__name__})."
            )
        return text
    builtin = _builtin(head, token.format)
    if builtin is None:
        raise ExpressionError(f"No value for named parameter '{token.parts[0]}'.")
    return builtin


def _member(value: Any, name: str, token: Token) -> Any:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower() == name.lower():
                return item
    raise ExpressionError(
        f"Error while accessing '{name}' in '{{{'.'.join(token.parts)}}}': property doesn't "
        "exist."
    )


def _builtin(name: str, fmt: str | None) -> str | None:
    if name in ("rand-guid", "sys.randguid"):
        return format_guid(uuid.uuid4(), fmt)
    if name in ("datetime", "sys.utcnow"):
        return format_datetime(datetime.now(UTC), fmt)
    return None


def to_text(value: Any, fmt: str | None = None) -> str | None:
    """A binding-data value as the host writes it in a path; None for objects and lists."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    if isinstance(value, uuid.UUID):
        return format_guid(value, fmt)
    return None


def format_guid(value: uuid.UUID, fmt: str | None) -> str:
    spec = (fmt or "D").upper()
    plain = str(value)
    forms = {"N": value.hex, "D": plain, "B": "{" + plain + "}", "P": "(" + plain + ")"}
    if spec not in forms:
        raise ExpressionError(f"Unknown GUID format '{fmt}' (use N, D, B or P).")
    return forms[spec]


def format_datetime(value: datetime, fmt: str | None) -> str:
    """Format with a .NET custom format string (the subset in _DOTNET_DATE; quoted text and
    other characters are literal)."""
    spec = fmt or DEFAULT_DATETIME_FORMAT
    out: list[str] = []
    i = 0
    while i < len(spec):
        if spec[i] in "'\"":
            end = spec.find(spec[i], i + 1)
            end = len(spec) if end < 0 else end
            out.append(spec[i + 1:end])
            i = end + 1
            continue
        for token, code in _DOTNET_DATE:
            if spec.startswith(token, i):
                out.append(_date_part(value, code))
                i += len(token)
                break
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


def _date_part(value: datetime, code: str) -> str:
    if code == "Z":
        return "Z" if value.utcoffset() in (None, UTC.utcoffset(None)) else value.strftime("%z")
    if code == "%f3":
        return f"{value.microsecond // 1000:03d}"
    if code.startswith("%-"):
        return str(int(value.strftime("%" + code[2:])))
    return value.strftime(code)
