"""Business days in France, and dates written the French way.

Promises to members are made in business days: weekends and French public holidays (the `holidays` package,
metropolitan France) do not count.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
END_OF_BUSINESS_DAY = time(18, 0)


@lru_cache(maxsize=32)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The business day `days` business days after `start` (0: `start` itself, or the next business day)."""
    current = start
    while not is_business_day(current):
        current += timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def due_after_business_days(now_utc: datetime, days: int, zone: ZoneInfo) -> datetime:
    """End of the business day `days` after `now_utc`'s local date, as naive UTC for storage."""
    local_day = now_utc.replace(tzinfo=UTC).astimezone(zone).date()
    due_day = add_business_days(local_day, days)
    local_due = datetime.combine(due_day, END_OF_BUSINESS_DAY, tzinfo=zone)
    return local_due.astimezone(UTC).replace(tzinfo=None)


def french_date(value: datetime | date, zone: ZoneInfo | None = None) -> str:
    """'mardi 1er décembre 2026' (naive datetimes are UTC, shown in `zone`)."""
    if isinstance(value, datetime):
        if zone is not None:
            value = value.replace(tzinfo=UTC).astimezone(zone)
        value = value.date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{WEEKDAYS[value.weekday()]} {day} {MONTHS[value.month - 1]} {value.year}"


def french_datetime(value: datetime, zone: ZoneInfo) -> str:
    local = value.replace(tzinfo=UTC).astimezone(zone)
    return f"{french_date(local.date())} à {local.hour:02d} h {local.minute:02d}"
