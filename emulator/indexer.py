"""Import the app's `function_app.py` and read its functions, as the Python worker indexes
a v2-programming-model app. Every failure names the file and shows the app's traceback:
an import error is never reported as "0 functions found"."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func

from emulator.errors import AppLoadError, IndexingError
from emulator.functions import FunctionSpec, build_spec
from emulator.tracebacks import app_traceback

DEFAULT_SCRIPT = "function_app.py"
DURABLE_KINDS = {
    "orchestrator": "orchestrationTrigger",
    "activity": "activityTrigger",
    "entity": "entityTrigger",
}


@dataclass(frozen=True)
class IndexedApp:
    script: Path
    app: func.FunctionRegister
    functions: tuple[FunctionSpec, ...]
    durable: tuple[tuple[str, str], ...]  # (trigger type for the listing, name)


def prepare_import(app_dir: Path) -> None:
    """chdir into the app folder and put it first on sys.path, as the worker does."""
    os.chdir(app_dir)
    entry = str(app_dir)
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)


def index_app(app_dir: Path) -> IndexedApp:
    script_name = os.environ.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT
    script = app_dir / script_name
    if not script.is_file():
        raise AppLoadError(
            f"No {script_name} in {app_dir}.",
            "Run `python -m emulator start` in a function app folder, or pass --script-root DIR.",
        )
    prepare_import(app_dir)
    module = _import(script)
    app = _find_app(module, script)
    functions = _read_functions(app, script)
    return IndexedApp(script, app, functions, _durable_functions(app, script))


def _import(script: Path) -> ModuleType:
    name = script.stem
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"Cannot import {script}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise AppLoadError(
            f"Failed to load {script}:\n" + app_traceback(exc),
            "Fix the error above; no functions were loaded.",
        ) from None
    return module


def _find_app(module: ModuleType, script: Path) -> func.FunctionRegister:
    found: dict[int, tuple[str, func.FunctionRegister]] = {}
    for attr, value in vars(module).items():
        if isinstance(value, func.FunctionRegister) and id(value) not in found:
            found[id(value)] = (attr, value)
    if len(found) > 1:
        names = ", ".join(f"'{attr}'" for attr, _ in found.values())
        raise AppLoadError(
            f"{script} defines more than one function app ({names}).",
            "Keep one FunctionApp and move the other functions into a func.Blueprint "
            "registered with app.register_functions(bp).",
        )
    if not found:
        blueprints = [a for a, v in vars(module).items() if isinstance(v, func.Blueprint)]
        hint = (
            f"Blueprints ({', '.join(blueprints)}) must be registered on a FunctionApp."
            if blueprints else "Define one at module level, e.g. `app = func.FunctionApp()`."
        )
        raise AppLoadError(f"{script} defines no FunctionApp instance at module level.", hint)
    return next(iter(found.values()))[1]


def _read_functions(app: func.FunctionRegister, script: Path) -> tuple[FunctionSpec, ...]:
    try:
        functions = app.get_functions()
    except ValueError as exc:
        raise IndexingError(f"Error indexing {script}: {exc}") from None
    except Exception as exc:
        raise IndexingError(
            f"Error indexing {script}: get_functions() failed.\n" + app_traceback(exc)
        ) from None
    specs = tuple(build_spec(f) for f in functions)
    seen: dict[str, str] = {}
    for spec in specs:
        key = spec.name.lower()  # the host treats function names case-insensitively
        if key in seen:
            raise IndexingError(
                f"Error indexing {script}: two functions are named '{seen[key]}' / '{spec.name}'.",
                "Function names must be unique: rename one, or set @app.function_name(...).",
            )
        seen[key] = spec.name
    return specs


def _durable_functions(app: Any, script: Path) -> tuple[tuple[str, str], ...]:
    """Hook (a): `get_durable_functions()` -> [(kind, name)], listed like func start does."""
    getter = getattr(app, "get_durable_functions", None)
    if not callable(getter):
        return ()
    try:
        entries = list(getter())
    except Exception as exc:
        raise IndexingError(
            f"Error indexing {script}: get_durable_functions() failed.\n" + app_traceback(exc)
        ) from None
    result: list[tuple[str, str]] = []
    for entry in entries:
        kind, name = entry
        trigger = DURABLE_KINDS.get(str(kind))
        if trigger is None:
            raise IndexingError(
                f"get_durable_functions() returned an unknown kind {kind!r} for '{name}' "
                f"(expected one of {', '.join(DURABLE_KINDS)})."
            )
        result.append((trigger, str(name)))
    return tuple(result)
