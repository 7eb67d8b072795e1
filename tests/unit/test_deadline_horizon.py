"""Issue 16, point 3: the deadlines job loads only the promises whose reminder is due (every open ticket was
loaded at each run: +26 MB with 10,000 of them). The SQL bound must lose none: every promise whose reminder time
has come (late ones included) is due before it, whatever the day, hour, weekend or holiday."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from mailbot.workflows.deadlines import reminder_time, reminders_due_before

PARIS = ZoneInfo("Europe/Paris")
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31))


@given(now=INSTANTS, ahead=st.integers(min_value=-20 * 24 * 60, max_value=20 * 24 * 60))
def test_every_promise_whose_reminder_has_come_is_below_the_bound(now: datetime, ahead: int) -> None:
    due = now + timedelta(minutes=ahead)
    horizon = reminders_due_before(now, PARIS)
    if reminder_time(due, PARIS) <= now or due <= now:
        assert due < horizon
    if due >= horizon:
        assert reminder_time(due, PARIS) > now


def test_around_christmas_and_a_long_weekend() -> None:
    # Thursday 24 December 2026, 10:00 Paris: Friday 25 is a holiday; a promise due Monday 28 is reminded on
    # Thursday 24 at 9:00 (the business day before), so it is loaded; one due Tuesday 29, reminded Monday, is not.
    now = datetime(2026, 12, 24, 9, 0)
    horizon = reminders_due_before(now, PARIS)
    assert datetime(2026, 12, 28, 16, 0) < horizon <= datetime(2026, 12, 29, 0, 0)
