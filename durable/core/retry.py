"""Retry policy for `call_activity_with_retry` / `call_sub_orchestrator_with_retry`.

Semantics are Durable Task's `RetryInterceptor`: after failed attempt *k* (1-based) the next
attempt starts `first_retry_interval * backoff_coefficient ** (k - 1)` later, capped at
`max_retry_interval`; there is no further attempt once `max_number_of_attempts` attempts were
made or once the orchestration clock has reached `first attempt + retry_timeout`. The wait
is a durable timer, so a retry survives a host restart and costs nothing while it waits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# Durable Functions' extension caps retry intervals at 6 days unless told otherwise.
DEFAULT_MAX_INTERVAL_MS = 6 * 24 * 3600 * 1000


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class RetryOptions:
    """How often and how patiently to retry a failed activity or sub-orchestration.

    Constructor and attribute names are the Durable Functions Python SDK's; the optional
    settings can be assigned after construction, as with the SDK.
    """

    def __init__(self, first_retry_interval_in_milliseconds: int, max_number_of_attempts: int):
        self._first = _positive_int(
            "first_retry_interval_in_milliseconds", first_retry_interval_in_milliseconds
        )
        self._max_attempts = _positive_int("max_number_of_attempts", max_number_of_attempts)
        self._backoff: float = 1.0
        self._max_interval: int | None = None
        self._timeout: int | None = None

    @property
    def first_retry_interval_in_milliseconds(self) -> int:
        """The wait before the second attempt."""
        return self._first

    @property
    def max_number_of_attempts(self) -> int:
        """Attempts in all, the first one included."""
        return self._max_attempts

    @property
    def backoff_coefficient(self) -> float:
        """Each wait is the previous one times this (1: the same wait every time)."""
        return self._backoff

    @backoff_coefficient.setter
    def backoff_coefficient(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"backoff_coefficient must be a number > 0, got {value!r}")
        self._backoff = float(value)

    @property
    def max_retry_interval_in_milliseconds(self) -> int | None:
        """The longest wait between attempts (None: Durable Functions' 6 days)."""
        return self._max_interval

    @max_retry_interval_in_milliseconds.setter
    def max_retry_interval_in_milliseconds(self, value: int | None) -> None:
        name = "max_retry_interval_in_milliseconds"
        self._max_interval = None if value is None else _positive_int(name, value)

    @property
    def retry_timeout_in_milliseconds(self) -> int | None:
        """No attempt starts this long after the first one (None: no limit)."""
        return self._timeout

    @retry_timeout_in_milliseconds.setter
    def retry_timeout_in_milliseconds(self, value: int | None) -> None:
        name = "retry_timeout_in_milliseconds"
        self._timeout = None if value is None else _positive_int(name, value)

    def to_json(self) -> dict[str, Any]:
        """The out-of-process wire shape Durable Functions uses for retry options."""
        data: dict[str, Any] = {
            "firstRetryIntervalInMilliseconds": self._first,
            "maxNumberOfAttempts": self._max_attempts,
        }
        if self._backoff != 1.0:
            data["backoffCoefficient"] = self._backoff
        if self._max_interval is not None:
            data["maxRetryIntervalInMilliseconds"] = self._max_interval
        if self._timeout is not None:
            data["retryTimeoutInMilliseconds"] = self._timeout
        return data

    def next_delay(
        self, failed_attempts: int, first_attempt_at: datetime, now: datetime
    ) -> timedelta | None:
        """The wait before the next attempt, or None when the caller should give up.

        `failed_attempts` counts attempts made so far (all failed); `now` is the
        orchestration's current time, so the answer is the same on every replay.
        """
        if failed_attempts >= self._max_attempts:
            return None
        if self._timeout is not None and now >= first_attempt_at + timedelta(
            milliseconds=self._timeout
        ):
            return None
        try:
            delay_ms = self._first * self._backoff ** (failed_attempts - 1)
        except OverflowError:
            delay_ms = float("inf")
        cap = self._max_interval if self._max_interval is not None else DEFAULT_MAX_INTERVAL_MS
        return timedelta(milliseconds=min(delay_ms, cap))

    def __repr__(self) -> str:
        return f"RetryOptions({self.to_json()!r})"
