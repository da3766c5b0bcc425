"""NCRONTAB schedules as Azure Functions timer triggers use them.

Six fields, `{second} {minute} {hour} {day} {month} {day-of-week}` (a five-field expression
is read with `second = 0`, as NCrontab does). Each field takes `*`, a value, a range `a-b`,
a step `*/n`, `a-b/n` or `a/n`, and comma-separated lists of those. Months and days of the
week also take their English three-letter names (`JAN`, `MON`) or full names.
Day-of-week 0 and 7 are both Sunday.

As in NCrontab (and unlike Vixie cron) a time must satisfy both the day-of-month and the
day-of-week field when both are restricted.

A schedule may also be a TimeSpan `hh:mm:ss` (or `d.hh:mm:ss`): the timer then fires at
that interval after the previous run, as on a dedicated App Service plan.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_FIELDS = (  # name, lowest, highest, names (index 0 = lowest)
    ("second", 0, 59, None),
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")
_SEARCH_YEARS = 5


class ScheduleError(ValueError):
    """The schedule expression cannot be parsed."""


@dataclass(frozen=True)
class CronSchedule:
    """A parsed NCRONTAB expression; `next_after` finds the next occurrence."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday

    def next_after(self, moment: datetime) -> datetime:
        """The first matching time strictly after `moment` (keeps its tzinfo)."""
        t = moment.replace(microsecond=0) + timedelta(seconds=1)
        limit = moment + timedelta(days=366 * _SEARCH_YEARS)
        while t <= limit:
            if t.month not in self.months:
                t = _start_of_next_month(t)
            elif not self._day_matches(t):
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t = t.replace(second=0) + timedelta(minutes=1)
            elif t.second not in self.seconds:
                t = t + timedelta(seconds=1)
            else:
                return t
        raise ScheduleError(
            f"schedule '{self.expression}' has no occurrence in the next {_SEARCH_YEARS} years"
        )

    def _day_matches(self, t: datetime) -> bool:
        weekday = (t.weekday() + 1) % 7  # Python: Monday = 0; cron: Sunday = 0
        return t.day in self.days and weekday in self.weekdays


@dataclass(frozen=True)
class IntervalSchedule:
    """A TimeSpan schedule: fire every `interval` after the previous occurrence."""

    expression: str
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.interval


Schedule = CronSchedule | IntervalSchedule


def parse_schedule(expression: str) -> Schedule:
    """Parse an NCRONTAB expression or a TimeSpan; raise `ScheduleError` saying what is wrong."""
    text = expression.strip()
    span = _TIMESPAN.match(text)
    if span:
        d, h, m, s = (int(g) if g else 0 for g in span.groups())
        interval = timedelta(days=d, hours=h, minutes=m, seconds=s)
        if interval <= timedelta(0):
            raise ScheduleError(f"schedule '{expression}': the interval must be positive")
        return IntervalSchedule(expression, interval)
    parts = text.split()
    if len(parts) == 5:
        parts = ["0", *parts]
    if len(parts) != 6:
        raise ScheduleError(
            f"schedule '{expression}' has {len(parts)} fields; NCRONTAB expects six: "
            "{second} {minute} {hour} {day} {month} {day-of-week}, e.g. '0 */5 * * * *'"
        )
    values = [
        _parse_field(part, name, low, high, names, expression)
        for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True)
    ]
    seconds, minutes, hours, days, months, weekdays = values
    return CronSchedule(
        text, seconds, minutes, hours, days, months, frozenset(d % 7 for d in weekdays)
    )


def _parse_field(
    text: str, name: str, low: int, high: int, names: list[str] | None, expression: str
) -> frozenset[int]:
    result: set[int] = set()
    for item in text.split(","):
        try:
            result.update(_parse_item(item, low, high, names))
        except ValueError as exc:
            raise ScheduleError(
                f"schedule '{expression}': invalid {name} field '{text}': {exc} "
                f"(allowed {low}-{high})"
            ) from None
    return frozenset(result)


def _parse_item(item: str, low: int, high: int, names: list[str] | None) -> range:
    if not item:
        raise ValueError("empty list item")
    base, slash, step_text = item.partition("/")
    step = _number(step_text, None) if slash else 1
    if step < 1:
        raise ValueError("a step must be at least 1")
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(first, low, names), _value(last, low, names)
    else:
        start = _value(base, low, names)
        end = high if slash else start
    for v in (start, end):
        if not low <= v <= high:
            raise ValueError(f"{v} is out of range")
    if start > end:
        raise ValueError(f"range {start}-{end} runs backwards")
    return range(start, end + 1, step)


def _value(text: str, low: int, names: list[str] | None) -> int:
    if names:
        upper = text.upper()
        for index, short in enumerate(names):
            full = calendar.month_name[index + 1] if names is _MONTHS else calendar.day_name[
                (index - 1) % 7
            ]
            if upper in (short, full.upper()):
                return index + low
    return _number(text, names)


def _number(text: str, names: list[str] | None) -> int:
    if not text.isdigit():
        what = "a number or a name" if names else "a number"
        raise ValueError(f"'{text}' is not {what}")
    return int(text)


def _start_of_next_month(t: datetime) -> datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
