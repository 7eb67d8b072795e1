from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mailbot.calendar import add_business_days, due_after_business_days, french_date, is_business_day

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize("start, days, expected", [
    (date(2026, 11, 26), 2, date(2026, 11, 30)),  # Thursday → Monday, weekend skipped
    (date(2026, 11, 28), 0, date(2026, 11, 30)),  # Saturday: counting starts on Monday
    (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas Day
    (date(2026, 4, 30), 1, date(2026, 5, 4)),  # 1 May (Friday) is a holiday
    (date(2026, 7, 13), 1, date(2026, 7, 15)),  # 14 July
    (date(2027, 3, 26), 1, date(2027, 3, 30)),  # Easter Monday 29 March 2027
])
def test_business_days_skip_weekends_and_french_holidays(start, days, expected):
    assert add_business_days(start, days) == expected


def test_holidays_are_not_business_days():
    assert not is_business_day(date(2026, 11, 11))  # Armistice
    assert not is_business_day(date(2026, 5, 14))  # Ascension 2026
    assert is_business_day(date(2026, 11, 12))


def test_due_is_end_of_local_business_day_in_utc():
    # Friday 23:30 in Paris is already Saturday local... no: 22:30 UTC Friday = 23:30 Paris Friday.
    assert due_after_business_days(datetime(2026, 11, 27, 22, 30), 1, PARIS) == datetime(2026, 11, 30, 17, 0)
    # 23:30 UTC Friday is Saturday 00:30 in Paris: counting starts Monday, +1 = Tuesday
    assert due_after_business_days(datetime(2026, 11, 27, 23, 30), 1, PARIS) == datetime(2026, 12, 1, 17, 0)
    # summer time: 18:00 Paris is 16:00 UTC
    assert due_after_business_days(datetime(2026, 6, 1, 8, 0), 0, PARIS) == datetime(2026, 6, 1, 16, 0)


def test_french_date():
    assert french_date(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert french_date(date(2026, 8, 15)) == "samedi 15 août 2026"
    assert french_date(datetime(2026, 11, 30, 23, 30), PARIS) == "mardi 1er décembre 2026"
