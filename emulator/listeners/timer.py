"""Timer triggers: NCRONTAB (or TimeSpan) schedules, `run_on_startup`, `func.TimerRequest`.

Times are UTC, or the zone named by `WEBSITE_TIME_ZONE` (an IANA name such as
`Europe/Paris`) when set. As in the Functions host, one timer never runs twice at once: the
next occurrence is computed after an invocation ends, so occurrences missed meanwhile are
skipped. `past_due` is true when an invocation starts more than a second after its
scheduled time (the host derives it from the schedule monitor, which this host does not
keep between runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from azure.functions.timer import TimerRequest

from emulator.errors import ConfigError
from emulator.functions import FunctionSpec
from emulator.invoker import InvocationFailed, Invoker
from emulator.logs import host_logger
from emulator.ncrontab import Schedule

PAST_DUE_TOLERANCE = timedelta(seconds=1)
_log = host_logger("timer")


def schedule_zone() -> tzinfo:
    name = os.environ.get("WEBSITE_TIME_ZONE")
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"WEBSITE_TIME_ZONE names an unknown time zone: {name!r}.") from None


class TimerListener:
    def __init__(
        self, spec: FunctionSpec, schedule: Schedule, run_on_startup: bool, invoker: Invoker
    ) -> None:
        self.spec = spec
        self.schedule = schedule
        self._run_on_startup = run_on_startup
        self._invoker = invoker
        self._zone = schedule_zone()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last: datetime | None = None
        self.next_occurrence = self.schedule.next_after(self._now())

    def _now(self) -> datetime:
        return datetime.now(self._zone)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"timer {self.spec.name}")

    async def stop(self) -> None:
        """Stop scheduling; an invocation in progress finishes first."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def drain(self) -> None:
        """Nothing left once stopped: `stop` waits for the running invocation."""

    async def _loop(self) -> None:
        if self._run_on_startup:
            await self._fire(self._now())
        while not self._stop.is_set():
            due = self.next_occurrence
            wait = (due - self._now()).total_seconds()
            _log.debug("Timer '%s': next occurrence %s.", self.spec.name, due.isoformat())
            if wait > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), wait)
                    break
                except TimeoutError:
                    pass
            await self._fire(due)
            self.next_occurrence = self.schedule.next_after(max(self._now(), due))

    async def _fire(self, scheduled: datetime) -> None:
        now = self._now()
        next_due = self.schedule.next_after(max(now, scheduled))
        request = TimerRequest(
            past_due=now - scheduled > PAST_DUE_TOLERANCE,
            schedule_status={
                "Last": (self._last or now).isoformat(),
                "Next": next_due.isoformat(),
                "LastUpdated": now.isoformat(),
            },
            schedule={"AdjustForDST": True},
        )
        self._last = now
        # A failure is already logged; a timer keeps its schedule after one.
        with contextlib.suppress(InvocationFailed):
            await self._invoker.invoke(self.spec, request, f"Timer fired at {now.isoformat()}")
