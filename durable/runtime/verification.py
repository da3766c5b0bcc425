"""Checking live sessions against a replay, to catch non-deterministic orchestrators early.

A live session resumes the orchestrator's generator where it stopped, so code that would
decide differently when replayed (a module-level counter, the wall clock, a random number)
goes unnoticed until a host recycles or another host takes the instance, which is when the
instance fails with a non-determinism error in production. With the check on, an episode
served from a live session is also run by a fresh session that replays the instance's
whole history, as a new host would. When the two disagree the replay is what counts: the
instance goes on (or fails, with the replay's `NonDeterminismError`) exactly as it would
after a recycle, and the host logs the divergence as an error.

It costs a full replay per checked episode, so it is meant for development (the default
under a local host) or for a sampled share of episodes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from durable.core.replay import EpisodeResult
from durable.storage.settings import LiveSessionCheck

log = logging.getLogger("durable.orchestration")


def sampler(
    mode: LiveSessionCheck, rate: float, draw: Callable[[], float] = random.random
) -> Callable[[], bool] | None:
    """Whether to check the next episode (None: never)."""
    if mode is LiveSessionCheck.OFF or (mode is LiveSessionCheck.SAMPLED and rate <= 0):
        return None
    if mode is LiveSessionCheck.ALWAYS or rate >= 1:
        return lambda: True
    return lambda: draw() < rate


def divergence(live: EpisodeResult, replayed: EpisodeResult) -> str | None:
    """How the live episode differs from the replayed one (None: they agree)."""
    if live.actions != replayed.actions:
        return (f"the live session scheduled {_actions(live)}, a replay of the history "
                f"scheduled {_actions(replayed)}")
    if live.status is not replayed.status:
        return f"the live session ended {live.status.value}, a replay {replayed.status.value}"
    if live.output != replayed.output or live.custom_status != replayed.custom_status:
        return "the live session and a replay of the history produced different outputs"
    return None


def report(instance_id: str, name: str, difference: str, replayed: EpisodeResult) -> None:
    """Log the divergence as an error, with what the replay concluded."""
    details = replayed.failure_details
    outcome = details.error_message if details is not None else replayed.status.value
    log.error(
        "Non-deterministic orchestrator '%s' (instance '%s'): %s. A host that replays this "
        "instance (after a restart, or on another host) would do what the replay did, so "
        "the instance goes on from the replay: %s",
        name, instance_id, difference, outcome,
    )


def _actions(result: EpisodeResult) -> str:
    if not result.actions:
        return "nothing"
    return ", ".join(type(a).__name__ + _named(a) for a in result.actions)


def _named(action: object) -> str:
    name = getattr(action, "name", None)
    return f" '{name}'" if isinstance(name, str) and name else ""
