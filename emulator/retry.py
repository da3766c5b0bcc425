"""Retry policies (`@app.retry(...)`), where the Functions host applies them.

The host runs a retry policy for timer triggers (and for Event Hubs, Kafka and Cosmos DB,
which this host does not serve). Queue and blob triggers retry through their queue's
dequeue count instead, and HTTP functions never retry: for those the policy is reported at
start and not applied, as on Azure.

Strategies: `fixedDelay` (`delay_interval` between attempts) and `exponentialBackoff`
(`minimum_interval` first, then growing: each next delay is the minimum plus a doubling
step of about the minimum, randomised by +/-20 %, capped at `maximum_interval`).
`max_retry_count` -1 retries for ever. A function's `context.retry_context` says which
retry it is (0 on the first attempt).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from azure.functions import _abc as func_abc

from emulator.errors import IndexingError
from emulator.settings import parse_timespan

FIXED = "fixeddelay"
EXPONENTIAL = "exponentialbackoff"
RANDOMIZATION = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    strategy: str  # FIXED or EXPONENTIAL
    max_retry_count: int  # -1: no limit
    delay: float = 0.0  # fixedDelay, seconds
    minimum: float = 0.0  # exponentialBackoff, seconds
    maximum: float = 0.0

    def allows(self, retries_done: int) -> bool:
        return self.max_retry_count == -1 or retries_done < self.max_retry_count

    def delays(self) -> Backoff:
        return Backoff(self)


@dataclass
class Backoff:
    """The delays before successive retries of one invocation."""

    policy: RetryPolicy
    _current: float = 0.0
    _exponent: int = 0
    _random: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        policy = self.policy
        if policy.strategy == FIXED:
            return policy.delay
        if self._current >= policy.maximum and self._exponent > 0:
            return policy.maximum
        step = 0.0
        if self._exponent > 0:
            factor = self._random.uniform(1 - RANDOMIZATION, 1 + RANDOMIZATION)
            step = factor * 2 ** (self._exponent - 1) * policy.minimum
        candidate = policy.minimum + step
        self._current = min(candidate, policy.maximum)
        self._exponent += 1
        return self._current


class RetryContext(func_abc.RetryContext):
    """`context.retry_context`, as the worker fills it."""

    def __init__(self, retry_count: int, max_retry_count: int, exception: Any = None) -> None:
        self._retry_count = retry_count
        self._max_retry_count = max_retry_count
        self._exception = exception

    @property
    def retry_count(self) -> int:
        return self._retry_count

    @property
    def max_retry_count(self) -> int:
        return self._max_retry_count

    @property
    def exception(self) -> Any:
        return self._exception


def parse_policy(function: str, setting: dict[str, Any]) -> RetryPolicy:
    """A policy from the library's `retry_policy` setting; IndexingError names the problem."""
    where = f"Function '{function}': @app.retry"
    strategy = str(setting.get("strategy") or "").replace("_", "").lower()
    if strategy not in (FIXED, EXPONENTIAL):
        raise IndexingError(f"{where} has strategy {setting.get('strategy')!r}.",
                            'Use "fixed_delay" or "exponential_backoff".')
    count = _count(setting.get("max_retry_count"), where)
    if strategy == FIXED:
        return RetryPolicy(FIXED, count, delay=_interval(setting, "delay_interval", where))
    minimum = _interval(setting, "minimum_interval", where)
    maximum = _interval(setting, "maximum_interval", where)
    if minimum > maximum:
        raise IndexingError(f"{where}: minimum_interval must not be greater than "
                            "maximum_interval.")
    return RetryPolicy(EXPONENTIAL, count, minimum=minimum, maximum=maximum)


def _count(raw: Any, where: str) -> int:
    text = str(raw).strip() if raw is not None else ""
    if not text.lstrip("-").isdigit() or int(text) < -1:
        raise IndexingError(f"{where}: max_retry_count must be an integer of -1 (no limit) or "
                            f"more, got {raw!r}.")
    return int(text)


def _interval(setting: dict[str, Any], key: str, where: str) -> float:
    raw = setting.get(key)
    seconds = parse_timespan(raw) if isinstance(raw, str) else None
    if seconds is None:
        raise IndexingError(f"{where}: {key} must be a TimeSpan like \"00:00:05\" (hh:mm:ss), "
                            f"got {raw!r}.")
    return seconds


def format_delay(seconds: float) -> str:
    whole = int(seconds)
    fraction = f".{round((seconds - whole) * 10_000_000):07d}" if seconds != whole else ""
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}{fraction}"
