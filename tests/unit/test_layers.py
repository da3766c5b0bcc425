"""Imports point only downward: emulator -> app -> http -> client -> runtime -> storage ->
core -> errors.

Read from the source with `ast`, so a lazy import inside a function, or one under
`TYPE_CHECKING`, counts too. Every module of the packages belongs to exactly one layer
(top-level modules included), so a new module or an import that runs up fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Top to bottom. A module may import its own layer and the layers below it, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("host", ("emulator",)),
    ("app", ("durable.app", "durable.testing", "durable")),
    ("http", ("durable.http",)),
    ("client", ("durable.client",)),
    ("runtime", ("durable.runtime",)),
    ("storage", ("durable.storage",)),
    ("core", ("durable.core",)),
    ("errors", ("durable.errors",)),
]
# Third-party packages a layer must not import at all.
FORBIDDEN_PACKAGES = {
    "core": ("azure", "aiohttp", "asyncio", "threading"),
    "errors": ("azure", "aiohttp"),
}
# Storage SDKs are only imported by the storage layer (and the host, which is generic).
SDKS = ("azure.storage", "azure.data.tables")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """The index of the layer `module` belongs to (the longest matching prefix wins)."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
                # `from durable import http_api` imports a module of the package too.
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def source_files() -> list[Path]:
    return sorted([*(ROOT / "durable").rglob("*.py"), *(ROOT / "emulator").rglob("*.py")])


def upward_imports(path: Path) -> list[str]:
    own = layer_of(module_name(path))
    assert own is not None, f"{path} belongs to no layer: add it to LAYERS"
    problems = []
    for name in sorted(imports_of(path)):
        target = layer_of(name)
        if target is not None and target < own and _is_module(name):
            problems.append(f"{module_name(path)} ({LAYERS[own][0]}) imports {name} "
                            f"({LAYERS[target][0]})")
        banned = FORBIDDEN_PACKAGES.get(LAYERS[own][0], ())
        if any(name == b or name.startswith(b + ".") for b in banned):
            problems.append(f"{module_name(path)} ({LAYERS[own][0]}) imports {name}")
    return problems


def _is_module(name: str) -> bool:
    """Whether `name` is a module or package of ours (not a name imported from one)."""
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_every_module_belongs_to_a_layer() -> None:
    assert [p for p in source_files() if layer_of(module_name(p)) is None] == []


def test_layers_import_only_downward() -> None:
    problems = [problem for path in source_files() for problem in upward_imports(path)]
    assert problems == []


def test_storage_sdks_stay_in_the_storage_layer() -> None:
    problems = []
    for path in (ROOT / "durable").rglob("*.py"):
        if path.is_relative_to(ROOT / "durable" / "storage"):
            continue
        for name in imports_of(path):
            if any(name == s or name.startswith(s + ".") for s in SDKS):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("durable/runtime/worker.py", "from durable.app.root import process\n", "app"),
        ("durable/client/links.py", "def f():\n    from durable.http import router\n", "http"),
        ("durable/errors.py", "from durable.core.history import EventType\n", "core"),
        ("durable/core/task.py", "from durable.storage.names import escape_key\n", "storage"),
        ("durable/storage/codec.py", "from durable import runtime\n", "runtime"),
        ("durable/testing/orchestrations.py", "import emulator.host\n", "host"),
        ("durable/core/replay.py", "import asyncio\n", "asyncio"),
    ],
)
def test_an_upward_import_is_caught(
    module: str, source: str, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself: adding any of these imports to a module fails it."""
    path = ROOT / module
    original = path.read_text(encoding="utf-8")
    copy = tmp_path / "copy.py"
    copy.write_text(original + "\n" + source, encoding="utf-8")
    real_read = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        return real_read(copy if self == path else self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    problems = upward_imports(path)
    assert problems and any(why in p for p in problems), problems


def test_only_the_tracing_modules_import_opentelemetry() -> None:
    """Tracing is optional: one guarded module per package may import it, nothing else."""
    allowed = {ROOT / "durable" / "runtime" / "tracing.py", ROOT / "emulator" / "tracing.py"}
    found = [
        module_name(path) for path in source_files()
        if path not in allowed
        and any(n == "opentelemetry" or n.startswith("opentelemetry.") for n in imports_of(path))
    ]
    assert found == []
