"""Imports point only downward: emulator -> app glue -> runtime -> storage -> core.

Read from the source with `ast`, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# layer -> the packages its modules must not import
FORBIDDEN = {
    "durable/core": ("durable.storage", "durable.runtime", "durable.app", "durable.client",
                     "durable.http", "durable.dispatch", "emulator", "azure", "aiohttp"),
    "durable/storage": ("durable.runtime", "durable.app", "durable.client", "durable.http",
                        "durable.dispatch", "durable.testing", "emulator"),
    "durable/runtime": ("durable.app", "durable.client", "durable.http", "durable.dispatch",
                        "emulator"),
    "durable": ("emulator",),
}
# Storage SDKs are only imported by the storage layer.
SDKS = ("azure.storage", "azure.data.tables")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_layers_import_only_downward() -> None:
    problems = []
    for layer, banned in FORBIDDEN.items():
        for path in (ROOT / layer).rglob("*.py"):
            for name in imports_of(path):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
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
