from __future__ import annotations

import datetime as dt

import pytest

from adapters.calendar.swedish_holidays import SwedishHolidays
from domain.calendar import WorkingCalendar

CALENDAR = WorkingCalendar(SwedishHolidays())


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 11, 25), True),  # an ordinary Wednesday
        (dt.date(2026, 11, 28), False),  # Saturday
        (dt.date(2026, 6, 19), False),  # Midsummer Eve (de facto)
        (dt.date(2026, 12, 24), False),  # Christmas Eve (de facto)
        (dt.date(2026, 1, 6), False),  # Epiphany
        (dt.date(2026, 5, 14), False),  # Ascension Day
        (dt.date(2026, 6, 5), True),  # the day before National Day is a working day
    ],
)
def test_working_days_exclude_weekends_and_swedish_holidays(day: dt.date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


def test_ten_working_days_skip_weekends_and_christmas() -> None:
    # Friday 18 December 2026 + 10 working days: 21, 22, 23, 28, 29, 30, 4, 5, 7, 8 January
    assert CALENDAR.add_working_days(dt.date(2026, 12, 18), 10) == dt.date(2027, 1, 8)
    assert CALENDAR.working_days_between(dt.date(2026, 12, 18), dt.date(2027, 1, 8)) == 10


def test_zero_working_days_from_a_holiday_is_the_next_working_day() -> None:
    assert CALENDAR.add_working_days(dt.date(2026, 12, 25), 0) == dt.date(2026, 12, 28)
