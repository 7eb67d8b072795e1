"""Business days in France, and dates written the French way.

Promises to members are made in business days: weekends and French public holidays (the `holidays` package,
metropolitan France) do not count. Every "day" here is a day of the club's calendar (MAILBOT_TIMEZONE): a naive UTC
instant is turned into a club date with `local_date`, and a club date into its end of business day (naive UTC) with
`end_of_business_day` — the one place either is done.
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
# How far ahead a promise may be made, and where a date typed without a year is looked for (mailbot.parsers.dates).
PROMISE_HORIZON_DAYS = 366

# Holiday names as they read inside a French sentence ("est férié (lundi de Pentecôte)"), by the `holidays`
# package's English names (stable across its versions; its own French names are capitalised as titles).
_HOLIDAY_NAMES = {
    "New Year's Day": "jour de l'An",
    "Easter Monday": "lundi de Pâques",
    "Labor Day": "fête du Travail",
    "Labour Day": "fête du Travail",
    "Victory Day": "fête de la Victoire",
    "Ascension Day": "Ascension",
    "Whit Monday": "lundi de Pentecôte",
    "Pentecost Monday": "lundi de Pentecôte",
    "National Day": "fête nationale",
    "Assumption Day": "Assomption",
    "All Saints' Day": "Toussaint",
    "Armistice Day": "Armistice",
    "Christmas Day": "Noël",
}


@lru_cache(maxsize=32)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.France(years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def holiday_name(day: date) -> str:
    """The French public holiday on `day`, as written in a sentence ("lundi de Pentecôte"), or ""."""
    name = _french_holidays(day.year).get(day)
    if not name:
        return ""
    # Two holidays on one day are joined by "; " in the package: name the first.
    first = str(name).split(";")[0].strip()
    return _HOLIDAY_NAMES.get(first, first)


def next_business_day(day: date) -> date:
    """The first business day strictly after `day`."""
    return add_business_days(day + timedelta(days=1), 0)


def local_date(value: datetime, zone: ZoneInfo) -> date:
    """The club's calendar date of a naive UTC instant (aware instants are converted as they are)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).date()


def end_of_business_day(day: date, zone: ZoneInfo) -> datetime:
    """The end of the business day `day` in the club's zone (18:00 local, whatever the summer time), as naive UTC
    for storage: the instant a promise "by `day`" falls due."""
    return datetime.combine(day, END_OF_BUSINESS_DAY, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


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
    return end_of_business_day(add_business_days(local_date(now_utc, zone), days), zone)


def non_working_reason(day: date) -> str:
    """Why `day` is not a business day, as a French sentence about it ("est férié (Toussaint)", "est un samedi"),
    or "" for a business day."""
    holiday = holiday_name(day)
    if holiday:
        return f"est férié ({holiday})"
    if day.weekday() >= 5:
        return "tombe un week-end"
    return ""


def promised_day_problem(day: date, today: date) -> str:
    """Why a promise to a member cannot be made for `day` (French, for Aideur), or "".

    Refused: a day before `today` (the club's date), a weekend or a French public holiday (the error names the next
    business day, so that Aideur can send the command again at once), a day more than PROMISE_HORIZON_DAYS ahead
    (a slip on the year: "15/12/2062").
    """
    if day < today:
        return f"La date {french_date(day)} est passée : indiquez une date à venir."
    reason = non_working_reason(day)
    if reason:
        following = next_business_day(day)
        return (f"Le {french_date(day)} {reason} : le prochain jour ouvré est le "
                f"{french_date(following, with_year=following.year != day.year)}. "
                "Renvoyez la commande avec cette date.")
    if (day - today).days > PROMISE_HORIZON_DAYS:
        return (f"La date {french_date(day)} est à plus d'un an : vérifiez l'année, ou promettez une date plus "
                "proche.")
    return ""


def french_date(value: datetime | date, zone: ZoneInfo | None = None, *, with_year: bool = True) -> str:
    """'mardi 1er décembre 2026' (naive datetimes are UTC, shown in `zone`; 'mardi 1er décembre' without the
    year)."""
    if isinstance(value, datetime):
        if zone is not None:
            value = value.replace(tzinfo=UTC).astimezone(zone)
        value = value.date()
    day = "1er" if value.day == 1 else str(value.day)
    text = f"{WEEKDAYS[value.weekday()]} {day} {MONTHS[value.month - 1]}"
    return f"{text} {value.year}" if with_year else text


def french_datetime(value: datetime, zone: ZoneInfo) -> str:
    local = value.replace(tzinfo=UTC).astimezone(zone)
    return f"{french_date(local.date())} à {local.hour:02d} h {local.minute:02d}"
