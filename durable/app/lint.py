"""The determinism lint over a whole function app: which modules to read, and which of
their functions the app registered as orchestrators.

The modules are the app's script (`function_app.py`) and the app's own modules it imports,
transitively (blueprints usually live there); a module outside the app folder (an installed
package) is not the app's code and is not read. Nothing is imported or run: the sources are
parsed. A host that has imported the app can add the orchestrators its registry holds, which
finds those registered without a decorator the source shows.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from durable.core.lint import Finding, LintResult, lint_source
from durable.core.registry import DurableKind
from durable.errors import LintError

_SKIPPED_FOLDERS = {"node_modules", "__pycache__", "site-packages"}
# This library's own package, which an app folder may hold (a vendored copy, this repo).
_LIBRARY = Path(__file__).resolve().parents[1]


def lint_app(script: Path, orchestrators: Iterable[Callable[..., Any]] = ()) -> list[LintResult]:
    """The lint of every module of the app whose script is `script`, in the order read.

    `orchestrators` are functions known to be orchestrators (from a registry); those
    defined in the app's modules are checked even without a decorator. Raises `LintError`
    when a module cannot be read or parsed.
    """
    root = script.resolve().parent
    known = _by_file(orchestrators, root)
    files = list(dict.fromkeys([*_app_modules(script.resolve(), root), *known]))
    results = []
    for path in files:
        try:
            source = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise LintError(f"Cannot read {path} to check its orchestrators: {exc}.") from None
        results.append(lint_source(source, _display(path), known.get(path, ())))
    return results


def findings_of(results: Iterable[LintResult]) -> list[Finding]:
    """Every finding of `results`, in file and line order."""
    return [finding for result in results for finding in result.findings]


def registered_orchestrators() -> list[Callable[..., Any]]:
    """The orchestrator functions the process's durable registry holds (an imported app)."""
    from durable.app.root import process

    return [f.func for f in process.registry.all() if f.kind is DurableKind.ORCHESTRATOR]


def _by_file(functions: Iterable[Callable[..., Any]], root: Path) -> dict[Path, list[str]]:
    """Qualified names of the functions defined under `root`, by their module's file."""
    found: dict[Path, list[str]] = {}
    for fn in functions:
        code = getattr(inspect.unwrap(fn), "__code__", None)
        qualname = getattr(inspect.unwrap(fn), "__qualname__", "")
        if code is None or "<locals>" in qualname:
            continue
        path = Path(code.co_filename).resolve()
        if _in_app(path, root) and path.suffix == ".py":
            found.setdefault(path, []).append(qualname)
    return found


def _app_modules(script: Path, root: Path) -> list[Path]:
    """`script` and the app modules it imports, transitively."""
    order, queue = [script], [script]
    while queue:
        path = queue.pop(0)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8-sig"), filename=str(path))
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue  # reported when the module itself is checked
        for found in _imported_files(tree, path, root):
            if found not in order:
                order.append(found)
                queue.append(found)
    return order


def _imported_files(tree: ast.Module, path: Path, root: Path) -> Iterator[Path]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _module_files(root, alias.name.split("."), root)
        elif isinstance(node, ast.ImportFrom):
            base = root
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
            parts = node.module.split(".") if node.module else []
            yield from _module_files(base, parts, root)
            for alias in node.names:  # `from pkg import module`
                yield from _module_files(base, [*parts, alias.name], root)


def _module_files(base: Path, parts: list[str], root: Path) -> Iterator[Path]:
    """The files of module `parts` below `base` (its packages' `__init__.py` included),
    when they lie in the app folder."""
    folder = base
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        candidates = [folder / part / "__init__.py"] + ([folder / f"{part}.py"] if last else [])
        for candidate in candidates:
            if candidate.is_file() and _in_app(candidate.resolve(), root):
                yield candidate.resolve()
        folder = folder / part


def _in_app(path: Path, root: Path) -> bool:
    if not path.is_relative_to(root) or path.is_relative_to(_LIBRARY):
        return False
    inside = path.relative_to(root).parts[:-1]
    return not any(p.startswith(".") or p in _SKIPPED_FOLDERS for p in inside)


def _display(path: Path) -> str:
    """The path relative to the working folder when it is below it (what editors link)."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
