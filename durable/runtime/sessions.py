"""Extended sessions: live orchestrators kept in memory between episodes.

A cached session is used only when the sentinel ETag read now equals the one our own commit
produced, which proves no other host wrote in between; replay is then skipped entirely.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from durable.core.history import HistoryEvent
from durable.runtime.summary import HistorySummary


@dataclass
class LiveSession:
    session: object
    etag: str
    history: list[HistoryEvent]
    summary: HistorySummary
    # What the Instances row shows (status, custom status, execution): an episode that
    # changes none of it skips the row update.
    written: tuple[Any, ...] = ()
    # The sends of the episode that made this session (None: not known here).
    sends: asyncio.Future[None] | None = None
    last_used: float = field(default_factory=time.monotonic)


class SessionCache:
    def __init__(self, enabled: bool, idle_timeout_s: float, max_sessions: int = 10_000) -> None:
        self._enabled = enabled
        self._idle = idle_timeout_s
        self._max = max_sessions
        self._items: OrderedDict[str, LiveSession] = OrderedDict()

    def get(self, instance_id: str) -> LiveSession | None:
        self._evict()
        live = self._items.pop(instance_id, None)
        return live

    def put(self, instance_id: str, live: LiveSession) -> None:
        if not self._enabled:
            return
        live.last_used = time.monotonic()
        self._items[instance_id] = live
        self._evict()

    def drop(self, instance_id: str) -> None:
        self._items.pop(instance_id, None)

    def __len__(self) -> int:
        return len(self._items)

    def _evict(self) -> None:
        deadline = time.monotonic() - self._idle
        while self._items:
            key, oldest = next(iter(self._items.items()))
            if oldest.last_used >= deadline and len(self._items) <= self._max:
                break
            self._items.pop(key)
