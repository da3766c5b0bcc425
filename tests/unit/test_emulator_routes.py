"""The host's route templates (pure; no host process needed)."""

from __future__ import annotations

import pytest

from emulator.routes import RouteTemplateError, parse_template, split_path


def match(template: str, path: str) -> dict[str, str] | None:
    return parse_template(template).match(split_path(path))


def test_literals_and_parameters() -> None:
    assert match("api/users/{id}", "/api/Users/42/") == {"id": "42"}
    assert match("api/users/{id}", "/api/users") is None
    assert match("api/users/{id}", "/api/users/42/extra") is None


def test_constraints() -> None:
    assert match("x/{n:int:min(10)}", "/x/12") == {"n": "12"}
    assert match("x/{n:int:min(10)}", "/x/9") is None
    assert match("x/{s:length(2,3)}", "/x/abcd") is None
    assert match("x/{s:regex(^a+$)}", "/x/aaa") == {"s": "aaa"}
    assert match("x/{n:range(1,5)}", "/x/6") is None


def test_optional_and_default() -> None:
    assert match("x/{a}/{b?}", "/x/1") == {"a": "1"}
    assert match("x/{a}/{b=zz}", "/x/1") == {"a": "1", "b": "zz"}
    assert match("x/{a}/{b=zz}", "/x/1/2") == {"a": "1", "b": "2"}


def test_catch_all() -> None:
    assert match("x/{*rest}", "/x") == {}
    assert match("x/{**rest}", "/x/a/b") == {"rest": "a/b"}


def test_complex_segment() -> None:
    assert match("f/{name}.{ext}", "/f/archive.tar.gz") == {"name": "archive.tar", "ext": "gz"}
    assert match("f/{name}.{ext?}", "/f/readme") == {"name": "readme"}


def test_precedence_prefers_literals_then_constraints() -> None:
    templates = [parse_template(t) for t in ("a/{*x}", "a/{x}", "a/{x:int}", "a/b")]
    ordered = sorted(templates, key=lambda t: t.precedence)
    assert [t.text for t in ordered] == ["a/b", "a/{x:int}", "a/{x}", "a/{*x}"]


@pytest.mark.parametrize(("template", "message"), [
    ("a/{*rest}/b", "must be the last segment"),
    ("a/{x?}/b", "may only be followed by other optional"),
    ("a/{x}/{x}", "more than once"),
    ("a/{x:nope}", "unknown route constraint"),
    ("a/{x", "unbalanced brace"),
    ("a//b", "empty segment"),
])
def test_template_errors(template: str, message: str) -> None:
    with pytest.raises(RouteTemplateError, match=message):
        parse_template(template)
