"""Issue 13, point 5: over the hourly limit an automatic mail is held until the limit allows, never lost to a
person; only a loop (more than a day of waiting) is dropped."""
from __future__ import annotations

from datetime import datetime, timedelta

from mailbot.outbox import HOLD_AT_MOST, RATE_WINDOW, _next_slot

NOW = datetime(2026, 11, 26, 10, 0)


def test_under_the_limit_leaves_now() -> None:
    assert _next_slot([NOW - timedelta(minutes=30)], NOW, 2) == NOW
    assert _next_slot([NOW - timedelta(hours=2)] * 5, NOW, 2) == NOW  # older than the window: not counted


def test_over_the_limit_waits_for_the_window_and_spreads_what_is_held() -> None:
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    first = _next_slot(sent, NOW, 2)
    assert first == NOW + timedelta(minutes=10)  # the older one leaves the window
    second = _next_slot([*sent, first], NOW, 2)  # type: ignore[list-item]
    assert second == NOW + timedelta(minutes=50)
    third = _next_slot([*sent, first, second], NOW, 2)  # type: ignore[list-item]
    assert third == first + RATE_WINDOW  # type: ignore[operator]


def test_a_loop_is_dropped_past_a_day() -> None:
    times = [NOW + timedelta(hours=hour) for hour in range(int(HOLD_AT_MOST / RATE_WINDOW) + 1)]
    assert _next_slot(times, NOW, 1) is None
