"""Route templates with ASP.NET Core semantics, as the Functions host matches HTTP triggers.

Supported: literal segments (matched case-insensitively), parameters `{name}`, inline
constraints `{id:int}` / `{id:int:min(1)}`, optional parameters `{name?}`, defaults
`{name=value}`, catch-all `{*rest}` / `{**rest}`, and complex segments such as
`{file}.{ext}`. When several templates match a path the most specific one wins: literal
before complex before constrained before plain parameter before catch-all, segment by
segment from the left (ASP.NET's inbound route precedence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from emulator.route_constraints import Constraint, parse_constraint


class RouteTemplateError(ValueError):
    """The route template is malformed."""


@dataclass(frozen=True)
class Parameter:
    name: str
    constraints: tuple[Constraint, ...] = ()
    optional: bool = False
    default: str | None = None
    catch_all: bool = False

    def accepts(self, value: str) -> bool:
        return all(c.accepts(value) for c in self.constraints)


@dataclass(frozen=True)
class Segment:
    parts: tuple[str | Parameter, ...]
    pattern: re.Pattern[str] | None = None  # only for complex segments

    @property
    def only_parameter(self) -> Parameter | None:
        if len(self.parts) == 1 and isinstance(self.parts[0], Parameter):
            return self.parts[0]
        return None

    def precedence(self) -> int:
        param = self.only_parameter
        if param is None:
            return 2 if len(self.parts) > 1 else 1
        if param.catch_all:
            return 5
        return 3 if param.constraints else 4


@dataclass(frozen=True)
class RouteTemplate:
    text: str
    segments: tuple[Segment, ...]
    precedence: tuple[int, ...] = field(default=())

    def match(self, path_segments: list[str]) -> dict[str, str] | None:
        """Route values for the (percent-decoded) path segments, or None when no match."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            param = segment.only_parameter
            if param is not None and param.catch_all:
                return _bind(param, "/".join(path_segments[index:]), values)
            if index >= len(path_segments):
                return self._match_missing(self.segments[index:], values)
            if not _match_segment(segment, path_segments[index], values):
                return None
        return values if len(path_segments) == len(self.segments) else None

    @staticmethod
    def _match_missing(rest: tuple[Segment, ...], values: dict[str, str]) -> dict[str, str] | None:
        for segment in rest:
            param = segment.only_parameter
            if param is None or not _is_optional(segment):
                return None
            if param.default is not None:
                values[param.name] = param.default
        return values


def _bind(param: Parameter, value: str, values: dict[str, str]) -> dict[str, str] | None:
    if value == "":
        if param.default is not None:
            values[param.name] = param.default
        return values
    if not param.accepts(value):
        return None
    values[param.name] = value
    return values


def _match_segment(segment: Segment, text: str, values: dict[str, str]) -> bool:
    param = segment.only_parameter
    if param is not None:
        if text == "" or not param.accepts(text):
            return False
        values[param.name] = text
        return True
    if segment.pattern is None:
        literal = segment.parts[0]
        assert isinstance(literal, str)
        return text.lower() == literal.lower()
    found = segment.pattern.fullmatch(text)
    if not found:
        return False
    for part in segment.parts:
        if isinstance(part, Parameter):
            value = found.group(part.name)
            if value is None:
                continue
            if not part.accepts(value):
                return False
            values[part.name] = value
    return True


def split_path(raw_path: str) -> list[str]:
    """Percent-decoded segments of a raw URL path, ignoring one trailing slash."""
    path = raw_path.strip("/")
    if not path:
        return []
    return [unquote(s) for s in path.split("/")]


def parse_template(text: str) -> RouteTemplate:
    """Parse a route template; raise RouteTemplateError naming the problem."""
    stripped = text.strip().strip("/")
    if stripped.startswith("~"):
        stripped = stripped.lstrip("~").strip("/")
    raw_segments = _split_segments(stripped) if stripped else []
    segments = tuple(_parse_segment(s, text) for s in raw_segments)
    _check_order(segments, text)
    names = [p.name.lower() for s in segments for p in s.parts if isinstance(p, Parameter)]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RouteTemplateError(
            f"route '{text}' uses the parameter name '{sorted(duplicates)[0]}' more than once"
        )
    return RouteTemplate(text, segments, tuple(s.precedence() for s in segments))


def _split_segments(text: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "/" and depth == 0:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return segments


def _parse_segment(text: str, template: str) -> Segment:
    if text == "":
        raise RouteTemplateError(f"route '{template}' has an empty segment ('//')")
    parts: list[str | Parameter] = []
    position = 0
    for found in re.finditer(r"\{([^{}]*)\}", text):
        if found.start() > position:
            parts.append(_literal(text[position : found.start()], template))
        parts.append(_parse_parameter(found.group(1), template))
        position = found.end()
    if position < len(text):
        parts.append(_literal(text[position:], template))
    if len(parts) == 1:
        return Segment(tuple(parts))
    for left, right in zip(parts, parts[1:], strict=False):
        if isinstance(left, Parameter) and isinstance(right, Parameter):
            raise RouteTemplateError(
                f"route '{template}': parameters '{left.name}' and '{right.name}' must be "
                f"separated by a literal in segment '{text}'"
            )
        if isinstance(left, Parameter) and (left.catch_all or left.optional):
            raise RouteTemplateError(
                f"route '{template}': '{left.name}' cannot be optional or catch-all inside "
                f"segment '{text}' unless it is the last part"
            )
    return Segment(tuple(parts), _complex_pattern(parts))


def _literal(text: str, template: str) -> str:
    if "{" in text or "}" in text:
        raise RouteTemplateError(f"route '{template}' has an unbalanced brace in '{text}'")
    return text


def _complex_pattern(parts: list[str | Parameter]) -> re.Pattern[str]:
    regex = ""
    for index, part in enumerate(parts):
        if isinstance(part, str):
            regex += re.escape(part)
            continue
        group = f"(?P<{part.name}>.+)"
        if part.optional and index == len(parts) - 1 and index > 0:
            previous = parts[index - 1]
            assert isinstance(previous, str)
            regex = regex[: -len(re.escape(previous))] + f"(?:{re.escape(previous)}{group})?"
        else:
            regex += group
    return re.compile(regex, re.IGNORECASE | re.DOTALL)


def _parse_parameter(body: str, template: str) -> Parameter:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default: str | None = None
    if "=" in body and not _inside_parentheses(body, body.index("=")):
        body, default = body.split("=", 1)
    optional = body.endswith("?")
    body = body.removesuffix("?")
    name, *constraint_texts = _split_constraints(body)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise RouteTemplateError(f"route '{template}': '{name}' is not a valid parameter name")
    try:
        constraints = tuple(parse_constraint(c) for c in constraint_texts)
    except ValueError as exc:
        raise RouteTemplateError(f"route '{template}', parameter '{name}': {exc}") from None
    if optional and default is not None:
        raise RouteTemplateError(
            f"route '{template}': parameter '{name}' cannot be both optional and have a default"
        )
    return Parameter(name, constraints, optional, default, catch_all)


def _inside_parentheses(text: str, index: int) -> bool:
    return text[:index].count("(") > text[:index].count(")")


def _split_constraints(body: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ":" and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _check_order(segments: tuple[Segment, ...], template: str) -> None:
    for index, segment in enumerate(segments):
        param = segment.only_parameter
        last = index == len(segments) - 1
        if param is not None and param.catch_all and not last:
            raise RouteTemplateError(
                f"route '{template}': the catch-all '{{*{param.name}}}' must be the last segment"
            )
        if param is not None and param.optional and not last:
            following = segments[index + 1 :]
            if not all(_is_optional(s) for s in following):
                raise RouteTemplateError(
                    f"route '{template}': optional parameter '{param.name}' may only be "
                    "followed by other optional parameters"
                )


def _is_optional(segment: Segment) -> bool:
    param = segment.only_parameter
    return param is not None and (param.optional or param.catch_all or param.default is not None)
