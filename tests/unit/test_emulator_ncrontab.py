"""The host's NCRONTAB parser (pure; no host process needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulator.ncrontab import CronSchedule, IntervalSchedule, ScheduleError, parse_schedule

T0 = datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC)  # a Monday


def occurrences(expression: str, start: datetime = T0, count: int = 3) -> list[datetime]:
    schedule = parse_schedule(expression)
    result, moment = [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        result.append(moment)
    return result


def test_every_second() -> None:
    assert occurrences("* * * * * *") == [T0 + timedelta(seconds=s) for s in (1, 2, 3)]


def test_every_five_minutes() -> None:
    assert occurrences("0 */5 * * * *") == [T0 + timedelta(minutes=m) for m in (5, 10, 15)]


def test_lists_ranges_and_steps() -> None:
    got = occurrences("10,20 0 9-17/4 * * *", count=4)
    assert [(d.hour, d.second) for d in got] == [(9, 10), (9, 20), (13, 10), (13, 20)]


def test_names_of_days_and_months() -> None:
    (first,) = occurrences("0 30 9 * * MON-FRI", start=datetime(2024, 1, 5, 10, tzinfo=UTC),
                           count=1)
    assert first == datetime(2024, 1, 8, 9, 30, tzinfo=UTC)  # Friday 10:00 -> Monday
    (feb,) = occurrences("0 0 0 1 feb *", count=1)
    assert feb == datetime(2024, 2, 1, tzinfo=UTC)
    (sunday,) = occurrences("0 0 12 * * 7", count=1)
    assert sunday.weekday() == 6


def test_day_and_weekday_must_both_match() -> None:
    (hit,) = occurrences("0 0 0 13 * FRI", count=1)  # the next Friday the 13th
    assert hit == datetime(2024, 9, 13, tzinfo=UTC)


def test_five_fields_mean_second_zero() -> None:
    schedule = parse_schedule("*/15 * * * *")
    assert isinstance(schedule, CronSchedule)
    assert schedule.seconds == frozenset({0})


def test_timespan_schedule() -> None:
    schedule = parse_schedule("00:00:30")
    assert isinstance(schedule, IntervalSchedule)
    assert schedule.next_after(T0) == T0 + timedelta(seconds=30)


def test_keeps_the_time_zone_and_drops_microseconds() -> None:
    start = T0.replace(microsecond=500)
    assert parse_schedule("* * * * * *").next_after(start) == T0 + timedelta(seconds=1)


@pytest.mark.parametrize(("expression", "message"), [
    ("* * * *", "has 4 fields"),
    ("61 * * * * *", "invalid second field '61'"),
    ("* * * * FOO *", "invalid month field 'FOO'"),
    ("* * 5-2 * * *", "runs backwards"),
    ("*/0 * * * * *", "at least 1"),
])
def test_errors_name_the_field(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(expression)


def test_impossible_date_is_reported() -> None:
    with pytest.raises(ScheduleError, match="no occurrence"):
        parse_schedule("0 0 0 30 2 *").next_after(T0)
