"""Issue 13, point 6: dates that make sense in France — the pure date logic.

A promised date on a weekend or a French public holiday is refused, naming the next working day; a postponement
must move the promise later; club time (Europe/Paris) decides the day, the end of business day (across both
summer-time changes), and the week `mailbot report` and the digest name.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.calendar import (
    PROMISE_HORIZON_DAYS,
    end_of_business_day,
    holiday_name,
    is_business_day,
    local_date,
    next_business_day,
    promised_day_problem,
)
from mailbot.parsers.dates import parse_date
from mailbot.report import period_label, report_period, week_name

PARIS = ZoneInfo("Europe/Paris")

# The French public holidays of 2027, with the name the error gives, and the next working day.
HOLIDAYS_2027 = [
    (date(2027, 1, 1), "jour de l'An", "lundi 4 janvier"),
    (date(2027, 3, 29), "lundi de Pâques", "mardi 30 mars"),
    (date(2027, 5, 1), "fête du Travail", "lundi 3 mai"),
    (date(2027, 5, 6), "Ascension", "vendredi 7 mai"),
    (date(2027, 5, 8), "fête de la Victoire", "lundi 10 mai"),
    (date(2027, 5, 17), "lundi de Pentecôte", "mardi 18 mai"),
    (date(2027, 7, 14), "fête nationale", "jeudi 15 juillet"),
    (date(2027, 8, 15), "Assomption", "lundi 16 août"),
    (date(2027, 11, 1), "Toussaint", "mardi 2 novembre"),
    (date(2027, 11, 11), "Armistice", "vendredi 12 novembre"),
    (date(2027, 12, 25), "Noël", "lundi 27 décembre"),
]


def test_the_issue_example_word_for_word():
    assert promised_day_problem(date(2026, 5, 25), date(2026, 5, 11)) == (
        "Le lundi 25 mai 2026 est férié (lundi de Pentecôte) : le prochain jour ouvré est le mardi 26 mai. "
        "Renvoyez la commande avec cette date.")


@pytest.mark.parametrize("day, name, following", HOLIDAYS_2027)
def test_every_french_holiday_of_2027_is_refused_by_name(day, name, following):
    assert holiday_name(day) == name
    problem = promised_day_problem(day, date(2026, 12, 31))
    assert f"est férié ({name})" in problem and f"le prochain jour ouvré est le {following}." in problem


def test_a_weekend_is_refused_with_the_monday():
    problem = promised_day_problem(date(2026, 12, 26), date(2026, 12, 10))  # Saturday after Christmas
    assert problem.startswith("Le samedi 26 décembre 2026 tombe un week-end")
    assert "le prochain jour ouvré est le lundi 28 décembre." in problem
    # The next working day in another year carries its year.
    assert "le prochain jour ouvré est le mardi 2 janvier 2029." in promised_day_problem(date(2028, 12, 30),
                                                                                        date(2028, 12, 1))


def test_past_far_and_working_days():
    today = date(2026, 12, 10)
    assert "passée" in promised_day_problem(date(2026, 12, 9), today)
    assert promised_day_problem(today, today) == ""  # by the end of today
    assert promised_day_problem(date(2026, 12, 15), today) == ""
    assert "plus d'un an" in promised_day_problem(date(2028, 2, 29), today)  # "29/02" typed in 2026


@settings(max_examples=300, deadline=None)
@given(today=st.dates(date(2026, 1, 1), date(2030, 12, 31)), ahead=st.integers(0, PROMISE_HORIZON_DAYS))
def test_a_day_is_refused_exactly_when_it_is_no_working_day_and_the_one_named_is_the_next(today, ahead):
    day = today + timedelta(days=ahead)
    problem = promised_day_problem(day, today)
    assert (problem == "") == is_business_day(day)
    if problem:
        following = next_business_day(day)
        assert following > day and is_business_day(following)
        assert all(not is_business_day(day + timedelta(days=n)) for n in range(1, (following - day).days))
        assert str(following.day if following.day > 1 else "1er") in problem


@settings(max_examples=200, deadline=None)
@given(today=st.dates(date(2026, 1, 1), date(2030, 12, 31)), day=st.integers(1, 31), month=st.integers(1, 12))
def test_a_date_without_a_year_is_the_next_one_within_twelve_months(today, day, month):
    found, _rest = parse_date(f"{day}/{month}", today)
    if found is None:  # only a day no month has (31/04, 30/02)
        with pytest.raises(ValueError):
            date(2028, month, day)  # a leap year: 29/02 exists
        return
    assert (found.day, found.month) == (day, month)
    assert today <= found
    if (day, month) != (29, 2):
        assert found <= today + timedelta(days=PROMISE_HORIZON_DAYS)


@pytest.mark.parametrize("text, today, expected", [
    ("lundi prochain", date(2027, 10, 27), date(2027, 11, 1)),  # Toussaint: read, then refused by the command
    ("17/05", date(2027, 5, 18), date(2028, 5, 17)),  # the next 17 May, never last week's
    ("17/05", date(2027, 5, 3), date(2027, 5, 17)),
    ("demain", date(2027, 1, 1), date(2027, 1, 2)),
    ("dans 3 jours", date(2027, 12, 22), date(2027, 12, 25)),
])
def test_relative_and_yearless_dates_resolve_on_the_club_calendar(text, today, expected):
    found, _rest = parse_date(text, today)
    assert found == expected


@pytest.mark.parametrize("day, utc_hour", [
    (date(2027, 3, 26), 17),  # Friday before summer time: 18:00 Paris = 17:00 UTC
    (date(2027, 3, 29), 16),  # Monday after the last Sunday of March (28th): 16:00 UTC
    (date(2027, 10, 29), 16),  # Friday before the last Sunday of October (31st)
    (date(2027, 11, 2), 17),  # back to winter time
    (date(2027, 10, 31), 17),  # the change day itself (a Sunday, but the function is only about the hour)
    (date(2027, 3, 28), 16),
])
def test_end_of_business_day_is_18h_in_paris_across_both_changes(day, utc_hour):
    assert end_of_business_day(day, PARIS) == datetime(day.year, day.month, day.day, utc_hour, 0)


def test_the_club_date_not_utc():
    assert local_date(datetime(2026, 12, 31, 23, 30), PARIS) == date(2027, 1, 1)  # New Year's night
    assert local_date(datetime(2027, 3, 27, 23, 30), PARIS) == date(2027, 3, 28)
    assert local_date(datetime(2027, 10, 30, 22, 30), PARIS) == date(2027, 10, 31)  # 00:30 CEST


def test_end_of_day_copies_are_one_function():
    """commands.base.end_of_day_utc and opening.reopen's date use calendar.end_of_business_day (no copy left)."""
    import inspect

    from mailbot.commands import base
    from mailbot.workflows import opening
    assert "end_of_business_day" in inspect.getsource(base.end_of_day_utc)
    assert not hasattr(opening, "_end_of_day")


@pytest.mark.parametrize("at, week, label", [
    (datetime(2026, 11, 27, 11, 0), "2026-W48", "du 23 au 27 novembre 2026"),  # Friday: the week so far
    (datetime(2026, 11, 29, 22, 59), "2026-W48", "du 23 au 29 novembre 2026"),  # Sunday 23:59 in Paris
    (datetime(2026, 11, 29, 23, 30), "2026-W48", "du 23 au 29 novembre 2026"),  # Monday 00:30 in Paris: just ended
    (datetime(2026, 11, 30, 7, 30), "2026-W48", "du 23 au 29 novembre 2026"),  # the digest's hour
    (datetime(2026, 12, 31, 23, 30), "2026-W53", "du 28 décembre 2026 au 1er janvier 2027"),  # New Year's night
    (datetime(2027, 3, 29, 6, 0), "2027-W12", "du 22 au 28 mars 2027"),  # Monday after summer time
    (datetime(2027, 11, 1, 7, 0), "2027-W43", "du 25 au 31 octobre 2027"),  # after winter time, on Toussaint
])
def test_report_names_the_digest_week_in_club_time(at, week, label):
    start, end = report_period(at, PARIS, 0)
    assert week_name(start, PARIS) == week
    assert period_label(start, end, PARIS) == label
    assert local_date(start, PARIS).weekday() == 0
    assert (end - start) <= timedelta(days=7, hours=1)
