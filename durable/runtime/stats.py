"""Counters of what this process's runtime did: episodes, how each found its history, ETag
conflicts, activity executions.

They answer the questions a scaled-out hub raises (do hosts fight over instances? how often
does a live session save a read? does any activity run twice?) without a log scan. Plain
integer increments on the event loop, read by benchmarks and diagnostics; nothing is sent
anywhere.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

EPISODES: Final = "episodes"
SESSION_HITS: Final = "session_hits"  # history taken from a live session, no read
ASSUMED_NEW: Final = "assumed_new"  # a start that assumed no history, no read
HISTORY_LOADS: Final = "history_loads"
CONFLICTS: Final = "etag_conflicts"
ACTIVITY_EXECUTIONS: Final = "activity_executions"

_counts: Counter[str] = Counter()


def count(what: str, n: int = 1) -> None:
    """Add `n` to one counter."""
    _counts[what] += n


def snapshot() -> dict[str, int]:
    """The counters since the process started (a copy)."""
    return dict(_counts)
