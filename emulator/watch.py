"""Which file changes reload the app, watched with `watchfiles`.

A change to a `.py` file anywhere in the app folder, or to `host.json` or
`local.settings.json` at its top, counts. Folders that are not the app's own code are not
watched at all (so a big `node_modules` costs nothing): hidden folders (`.venv`, `.git`,
`.python_packages`, ...), virtual environments (any folder holding `pyvenv.cfg`),
`node_modules`, `__pycache__` and Azurite's data folders. Top-level folders created after
the start are not watched until the next start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

CONFIG_FILES = ("host.json", "local.settings.json")
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "__azurite__", "__blobstorage__",
                          "__queuestorage__", "__tablestorage__", "site-packages"})
DEBOUNCE_MS = 300
KIND = {Change.added: "Created", Change.modified: "Changed", Change.deleted: "Deleted"}


def skipped(folder: Path) -> bool:
    name = folder.name
    return (name.startswith(".") or name in SKIPPED_DIRS
            or (folder / "pyvenv.cfg").exists())


class AppFilter(DefaultFilter):
    """Python sources and the two settings files; nothing under skipped folders."""

    def __init__(self, app_dir: Path) -> None:
        super().__init__()
        self._app_dir = app_dir

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        file = Path(path)
        try:
            relative = file.relative_to(self._app_dir)
        except ValueError:
            return False
        if any(part.startswith(".") or part in SKIPPED_DIRS for part in relative.parts[:-1]):
            return False
        if len(relative.parts) == 1 and file.name in CONFIG_FILES:
            return True
        return file.suffix == ".py"


def watched_folders(app_dir: Path) -> list[Path]:
    return sorted(p for p in app_dir.iterdir() if p.is_dir() and not skipped(p))


async def changes(app_dir: Path, stop: asyncio.Event) -> AsyncIterator[set[tuple[Change, str]]]:
    """Batches of relevant changes until `stop` is set."""
    queue: asyncio.Queue[set[tuple[Change, str]]] = asyncio.Queue()
    app_filter = AppFilter(app_dir)

    async def pump(paths: list[Path], recursive: bool) -> None:
        async for batch in awatch(*paths, watch_filter=app_filter, debounce=DEBOUNCE_MS,
                                  stop_event=stop, recursive=recursive):
            await queue.put(batch)

    folders = watched_folders(app_dir)
    pumps = [asyncio.create_task(pump([app_dir], False))]
    if folders:
        pumps.append(asyncio.create_task(pump(folders, True)))
    stopped = asyncio.create_task(stop.wait())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                return
            yield getter.result()
    finally:
        stop.set()
        for task in (*pumps, stopped):
            task.cancel()
        await asyncio.gather(*pumps, stopped, return_exceptions=True)


def describe(batch: set[tuple[Change, str]], app_dir: Path) -> list[str]:
    lines = []
    for change, path in sorted(batch, key=lambda c: c[1]):
        try:
            shown = str(Path(path).relative_to(app_dir))
        except ValueError:
            shown = path
        lines.append(f"File change of type '{KIND.get(change, change.name)}' detected for "
                     f"'{shown}'.")
    return lines
