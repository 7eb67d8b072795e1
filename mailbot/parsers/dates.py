"""Reading the date Aideur types at the start of a command argument ("15/12", "mardi prochain", "dans 3 jours ouvrés").

Hand-written rules rather than the `dateparser` library: measured on the forms below, dateparser costs ~0.26 s to import
plus ~0.28 s on its first call, ~1 ms per call afterwards, and still misses "lundi prochain", "sous 3 jours",
"fin de semaine", "fin du mois", "semaine prochaine" and business days; it also cannot say where the date ends, which
is what `#reporter 15/12 le prestataire est malade` needs. These rules answer in a few microseconds.

Dates are read on the club's calendar: `today` is the club's date (MAILBOT_TIMEZONE), so "demain" typed at
00:30 in Paris is the day after that one, whatever UTC says. What is read is not judged here: a weekend, a holiday
or a past day is refused by the command that promises it (mailbot.calendar.promised_day_problem).

Every pattern is matched against a *folded* copy of the text (lower case, accents removed, odd spaces/apostrophes/
dashes made plain) that keeps one character per original character, so the rest of the text can be cut from the
original as typed. All patterns are tried and the longest match wins ("mardi 15 décembre" beats "mardi").
"""
from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Callable
from datetime import date, timedelta

from mailbot.calendar import add_business_days

from .rules import fold

__all__ = ["DATE_FORMS_HELP", "fold", "parse_date"]

# Shown to Aideur when a date cannot be read (French, as every message to him).
DATE_FORMS_HELP = (
    "15/12, 15/12/2026, 15 décembre, mardi 15 décembre, lundi prochain, demain, dans 3 jours, "
    "dans 5 jours ouvrés, fin de semaine, fin du mois, semaine prochaine"
)

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate((
    "janvier janv jan january",
    "fevrier fevr fev february feb",
    "mars mar march",
    "avril avr april apr",
    "mai may",
    "juin june jun",
    "juillet juil july jul",
    "aout august aug",
    "septembre sept sep september",
    "octobre oct october",
    "novembre nov november",
    "decembre dec december",
), start=1):
    for _name in _names.split():
        _MONTHS[_name] = _number

_WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate((
    "lundi monday", "mardi tuesday", "mercredi wednesday", "jeudi thursday", "vendredi friday",
    "samedi saturday", "dimanche sunday",
)):
    for _name in _names.split():
        _WEEKDAYS[_name] = _number

# "huit jours" and "quinze jours" are French idioms for one and two weeks; digits ("dans 15 jours") stay literal.
_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30,
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "fifteen": 15, "twenty": 20, "thirty": 30,
}
_IDIOM_DAYS = {"huit": 7, "quinze": 14}


def _alternation(words: object) -> str:
    # Longest first, so that "septembre" is not read as "sept" + garbage.
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))  # type: ignore[call-overload]


_MONTH = rf"(?P<month>{_alternation(_MONTHS)})\.?"
_WEEKDAY = rf"(?P<weekday>{_alternation(_WEEKDAYS)})"
_DAY = r"(?P<day>\d{1,2})(?:er|ere|eme|e|st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_NUMBER = rf"(?P<number>\d{{1,3}}|{_alternation(_NUMBER_WORDS)})"

# Words that may introduce a date and add nothing to it: "le 15", "pour le 15", "jusqu'au 15", "d'ici la fin du mois".
_PREFIX = (
    r"(?:(?:pour|avant|d'ici|en|on|by|until|before|au\s+plus\s+tard)\s+|jusqu'\s*)?"
    r"(?:(?:le|la|au|a|this|the)\s+|l'\s*)?"
)
# A date ends where a word ends: "lundis" is not "lundi", "1.200" is not "1.20".
_END = r"(?!\w)"

Rule = Callable[["re.Match[str]", date], "date | None"]


def _with_year(day: int, month: int, year: int | None, today: date) -> date | None:
    """The given day, or without a year its next occurrence on or after today (15/01 typed in December: January).

    A date without a year is the next one, never a past one: "17/05" typed on 18 May is next year's, within the
    next twelve months. Only 29/02 can fall further (the next leap year): it is read so, and the command refuses a
    promise more than a year ahead (mailbot.calendar.PROMISE_HORIZON_DAYS) with a message Aideur understands,
    rather than "date not understood". 31/02 is never read.
    """
    if year is not None:
        if year < 100:
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for candidate_year in range(today.year, today.year + 9):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _next_weekday(weekday: int, today: date, *, strictly_after: bool = True) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and strictly_after:
        ahead = 7
    return today + timedelta(days=ahead)


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    # 31 January + 1 month is the last day of February, not an error.
    return date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))


def _end_of_month(day: date) -> date:
    return date(day.year, day.month, _calendar.monthrange(day.year, day.month)[1])


def _numeric(match: re.Match[str], today: date) -> date | None:
    year = match.group("year")
    return _with_year(int(match.group("day")), int(match.group("month")), int(year) if year else None, today)


def _iso(match: re.Match[str], today: date) -> date | None:
    return _with_year(int(match.group("day")), int(match.group("month")), int(match.group("year")), today)


def _textual(match: re.Match[str], today: date) -> date | None:
    # A weekday written beside a full date ("mardi 15 décembre") is decoration: the date decides.
    year = match.group("year")
    return _with_year(int(match.group("day")), _MONTHS[match.group("month")], int(year) if year else None, today)


def _day_only(match: re.Match[str], today: date) -> date | None:
    """"le 17", "jeudi 17": the next 17th on or after today (a month without it is skipped)."""
    day = int(match.group("day"))
    if not 1 <= day <= 31:
        return None
    month_start = today.replace(day=1)
    for months in range(3):
        first = _add_months(month_start, months)
        if day <= _calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day)
            if candidate >= today:
                return candidate
    return None


def _weekday(match: re.Match[str], today: date) -> date | None:
    # "lundi", "lundi prochain", "next monday": the next Monday after today, never today itself.
    found = _next_weekday(_WEEKDAYS[match.group("weekday")], today)
    if match.groupdict().get("en_huit"):
        found += timedelta(days=7)
    return found


def _relative(match: re.Match[str], today: date) -> date | None:
    word = match.group("number")
    count = int(word) if word.isdigit() else _NUMBER_WORDS[word]
    unit = match.group("unit")
    business = bool(match.group("business") or match.group("business_en"))
    if unit.startswith(("j", "d")):
        if business:
            return add_business_days(today, count)
        return today + timedelta(days=_IDIOM_DAYS.get(word, count))
    if unit.startswith(("sem", "w")):
        return add_business_days(today, 5 * count) if business else today + timedelta(weeks=count)
    if unit.startswith("m"):
        return _add_months(today, count)
    return _add_months(today, 12 * count)  # an / ans / year(s)


def _fixed(offset: int) -> Rule:
    return lambda _match, today: today + timedelta(days=offset)


def _end_of_week(match: re.Match[str], today: date) -> date | None:
    # The Friday of this week (today if it is Friday); at the weekend, next week's Friday.
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    if match.group("next") or match.group("next_en"):
        friday = _next_weekday(0, today) + timedelta(days=4)
    return friday


def _end_of_month_rule(match: re.Match[str], today: date) -> date | None:
    return _end_of_month(_add_months(today.replace(day=1), 1) if match.group("next") else today)


def _next_week(_match: re.Match[str], today: date) -> date | None:
    return _next_weekday(0, today)


def _next_month(_match: re.Match[str], today: date) -> date | None:
    return _add_months(today.replace(day=1), 1)


_NEXT_FR = r"(?:\s+(?P<next>prochaine?|pro))?"
_RULES: tuple[tuple[re.Pattern[str], Rule], ...] = tuple(
    (re.compile(_PREFIX + "(?:" + body + ")" + _END), rule) for body, rule in (
        (r"(?P<year>\d{4})\s*[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<day>\d{1,2})", _iso),
        ((rf"(?:{_WEEKDAY},?\s+)?(?P<day>\d{{1,2}})(?:\s*/\s*|[.-])(?P<month>\d{{1,2}})"
         # Two digits followed by "/" are the next date's day, not a year: "21/12-04/01" is two dates.
         r"(?:(?:\s*/\s*|[.-])(?P<year>\d{4}|\d{2}(?!\s*/)))?"), _numeric),
        (rf"(?:{_WEEKDAY},?\s+)?(?:le\s+)?{_DAY}\s+{_MONTH}(?:,?\s+{_YEAR})?", _textual),
        (rf"(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?", _textual),
        (rf"{_WEEKDAY}\s+{_DAY}", _day_only),
        (rf"le\s+{_DAY}", _day_only),
        (rf"(?:(?:ce|next|this)\s+)?{_WEEKDAY}(?:\s+(?:prochain|qui\s+vient|(?P<en_huit>en\s+huit)))?", _weekday),
        (r"aujourd'\s*hui|aujourdhui|auj|ce\s+soir|today|tonight", _fixed(0)),
        (r"demain|tomorrow", _fixed(1)),
        (r"apres[\s-]*demain|(?:the\s+)?day\s+after\s+tomorrow", _fixed(2)),
        ((rf"(?:(?:dans|sous|in|within)\s+)?{_NUMBER}\s+(?:(?P<business_en>business|working)\s+)?"
         r"(?P<unit>jours?|j|semaines?|sem|mois|ans?|days?|weeks?|months?|years?)"
         r"(?:\s+(?P<business>ouvres?|ouvrees?|ouvrables?))?"), _relative),
        (rf"(?:la\s+)?fin\s+(?:de\s+(?:la\s+)?)?semaine{_NEXT_FR}|end\s+of\s+(?:the\s+)?(?P<next_en>next\s+)?week",
         _end_of_week),
        (rf"(?:la\s+)?fin\s+(?:du|de)\s+(?:ce\s+)?mois{_NEXT_FR}|end\s+of\s+(?:the\s+)?month", _end_of_month_rule),
        (r"(?:(?:le\s+)?debut\s+(?:de\s+)?(?:la\s+)?)?semaine\s+(?:prochaine|pro)|next\s+week", _next_week),
        (r"(?:(?:le\s+)?debut\s+(?:du\s+)?)?mois\s+prochain|next\s+month", _next_month),
    )
)

# What may sit between a date and the text after it: "15/12 : le prestataire…", "15/12 - raison".
_SEPARATORS = " \t\r\n:;,.-\u2013\u2014\u00a0\u202f"


def parse_date(text: str, today: date) -> tuple[date | None, str]:
    """The date written at the start of `text` and the rest of the text, or `(None, text)`.

    A date that matches a form but does not exist (31/02) gives `(None, text)` too: no shorter reading is tried,
    so "31/02" is never half-read as something else.
    """
    folded = fold(text)
    start = len(folded) - len(folded.lstrip())
    best: tuple[int, re.Match[str], Rule] | None = None
    for pattern, rule in _RULES:
        match = pattern.match(folded, start)
        if match and (best is None or match.end() > best[0]):
            best = (match.end(), match, rule)
    if best is None:
        return None, text
    end, match, rule = best
    found = rule(match, today)
    if found is None:
        return None, text
    return found, text[end:].lstrip(_SEPARATORS).strip()
