"""Count working days: weekends and England and Wales bank holidays are not working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from trigger_workflow.engine import clock

UK_TIME = ZoneInfo("Europe/London")


def today() -> date:
    """Return today's date in England and Wales (not the server's time zone)."""
    simulated = clock.simulated_moment()
    return (simulated.astimezone(UK_TIME) if simulated else datetime.now(UK_TIME)).date()


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Return whether offices are open on this day."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """Return the date `days` working days after `start` (not counting `start` itself)."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Return how many working days fall after `start` up to and including `end` (negative if past)."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def end_of_day(day: date) -> datetime:
    """Return the moment (UTC) a day ends in England: a step due that day is overdue from then."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UK_TIME).astimezone(UTC)
