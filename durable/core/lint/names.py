"""Which module attribute a name in user code stands for, read from the imports.

`from datetime import datetime as dt` makes `dt.now` mean `datetime.datetime.now`;
`import random as r` makes `r.randint` mean `random.randint`. A name the code binds in
another way (a parameter, an assignment, a `def`) means nothing the lint knows, so a local
variable called `random` is never taken for the module: the lint would rather miss a call
than raise a false alarm. A name bound nowhere is a builtin (`open`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

# A name's meaning: the dotted name it was imported as, or None (bound some other way).
Bindings = dict[str, str | None]

_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def import_bindings(node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
    """The names an import statement binds and what each stands for."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:  # `import os.path` binds `os`
                top = alias.name.split(".", 1)[0]
                yield top, top
        return
    for alias in node.names:
        if alias.name == "*":
            continue
        local = alias.asname or alias.name
        # A relative import is a module of the app: nothing the rules name.
        yield local, None if node.level or not node.module else f"{node.module}.{alias.name}"


def _bound_names(node: ast.AST) -> Iterator[str]:
    """Names a statement or expression binds other than by importing."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
        yield node.id
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.arg):
        yield node.arg
    elif isinstance(node, ast.ExceptHandler) and node.name:
        yield node.name
    elif isinstance(node, ast.alias):
        return
    elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
        yield node.name


def module_bindings(tree: ast.Module) -> Bindings:
    """What each module-level name stands for, the last binding in the source winning."""
    bindings: Bindings = {}
    for node in _module_level(tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bindings.update(import_bindings(node))
        else:
            for name in _bound_names(node):
                bindings[name] = None
    return bindings


def _module_level(body: Iterable[ast.stmt]) -> Iterator[ast.AST]:
    """Module-level nodes in source order, not entering functions and classes (whose
    names are bound, their bodies not)."""
    for statement in body:
        yield statement
        if isinstance(statement, _NESTED_SCOPES):
            continue
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                yield from _module_level([child])
            else:
                yield from _walk_expression(child)


def _walk_expression(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    if isinstance(node, ast.Lambda):
        return
    for child in ast.iter_child_nodes(node):
        yield from _walk_expression(child)


def function_bindings(function: ast.AST) -> Bindings:
    """What the names bound inside a function (its nested functions and lambdas included)
    stand for. A name both imported and bound otherwise stands for nothing known."""
    bindings: Bindings = {}
    other: set[str] = set()
    for node in ast.walk(function):
        if node is function:
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            bindings.update(import_bindings(node))
        else:
            other.update(_bound_names(node))
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        other.update(a.arg for a in _arguments(function.args))
    for name in other:
        bindings[name] = None
    return bindings


def _arguments(args: ast.arguments) -> Iterator[ast.arg]:
    yield from args.posonlyargs
    yield from args.args
    yield from args.kwonlyargs
    if args.vararg:
        yield args.vararg
    if args.kwarg:
        yield args.kwarg


def qualified_name(node: ast.expr, scopes: Iterable[Bindings]) -> str | None:
    """The dotted name a `Name` or `a.b.c` chain stands for, looked up in `scopes`
    (innermost first); None when it starts from anything else or from a local value."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    for scope in scopes:
        if node.id in scope:
            base = scope[node.id]
            break
    else:
        base = f"builtins.{node.id}"
    if base is None:
        return None
    return ".".join([base, *reversed(parts)])
