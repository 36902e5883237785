"""The business-hours clock of 004 Bilaga 4 § 3.1.1 and § 3.3.2 (ADR 0009).

Support hours are Monday-Friday 08:00-17:00 Europe/Stockholm, never on a weekend or a
Swedish public holiday; minutes and hours count only support time, a working day is one
full support day, and "days" (§ 3.5.1) are calendar days.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.calendar.swedish_holidays import SwedishHolidays
from domain.business_hours import BusinessHours, calendar_days, hours, minutes, working_days
from domain.calendar import WorkingCalendar
from domain.providers import STOCKHOLM

CLOCK = BusinessHours(WorkingCalendar(SwedishHolidays()))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (at(2026, 11, 25, 8, 0), True),  # Wednesday, the opening minute
        (at(2026, 11, 25, 16, 59), True),
        (at(2026, 11, 25, 17, 0), False),  # closing time is closed
        (at(2026, 11, 25, 7, 59), False),
        (at(2026, 11, 28, 12, 0), False),  # Saturday
        (at(2026, 6, 19, 10, 0), False),  # Midsummer Eve
        (at(2026, 12, 24, 10, 0), False),  # Christmas Eve
    ],
)
def test_support_is_open_on_weekdays_from_eight_to_five_but_not_on_holidays(
    moment: dt.datetime, open_: bool
) -> None:
    """Bilaga 4 § 3.1.1 and § 3.3.2: Monday-Friday 08.00-17.00, not on red days."""
    assert CLOCK.is_open(moment) is open_


def test_the_clock_stops_in_the_evening_and_starts_again_next_morning() -> None:
    """Wednesday 16:30 + 60 support minutes = Thursday 08:30."""
    assert CLOCK.add_working_minutes(at(2026, 11, 25, 16, 30), 60) == at(2026, 11, 26, 8, 30)


def test_the_clock_skips_the_weekend() -> None:
    """Friday 16:45 + 30 min = Monday 08:15."""
    assert CLOCK.add_working_minutes(at(2026, 11, 27, 16, 45), 30) == at(2026, 11, 30, 8, 15)


def test_a_case_registered_at_night_starts_its_clock_at_the_next_opening() -> None:
    """§ 2.4: the service levels cover what happens after registration at the contact point."""
    assert CLOCK.clock_start(at(2026, 11, 28, 3, 0)) == at(2026, 11, 30, 8, 0)
    assert CLOCK.add_working_minutes(at(2026, 11, 25, 22, 0), 30) == at(2026, 11, 26, 8, 30)


def test_midsummer_eve_and_midsummer_day_are_not_support_days() -> None:
    """Thursday 18 June 2026 16:00 + 2 support hours skips Midsummer Eve (Friday 19 June)."""
    assert CLOCK.add_working_hours(at(2026, 6, 18, 16, 0), 2) == at(2026, 6, 22, 9, 0)


def test_christmas_and_new_year_are_skipped_by_working_days() -> None:
    """Wednesday 23 December 2026 10:00 + 5 working days: 28, 29, 30 December, 4, 5 January
    (24-26, 31 December and 1 January are holidays or weekend)."""
    assert CLOCK.add_working_days(at(2026, 12, 23, 10, 0), 5) == at(2027, 1, 5, 10, 0)


def test_two_working_days_from_tuesday_morning_are_thursday_morning() -> None:
    """A working day is one full support day (9 hours): the same clock time N days later."""
    assert CLOCK.add_working_days(at(2026, 11, 24, 10, 0), 2) == at(2026, 11, 26, 10, 0)


def test_a_budget_that_ends_at_closing_time_ends_at_the_next_opening() -> None:
    """No support minute passes between 17:00 and 08:00: evening work is on time."""
    assert CLOCK.add_working_days(at(2026, 11, 23, 8, 0), 1) == at(2026, 11, 24, 8, 0)
    assert CLOCK.add_working_hours(at(2026, 11, 27, 9, 0), 8) == at(2026, 11, 30, 8, 0)


def test_support_hours_follow_stockholm_local_time_across_summer_time() -> None:
    """Friday 27 March 2026 16:30 CET + 60 min = Monday 30 March 08:30 CEST (UTC+2)."""
    deadline = CLOCK.add_working_minutes(at(2026, 3, 27, 16, 30), 60)
    assert deadline == dt.datetime(2026, 3, 30, 6, 30, tzinfo=dt.UTC)
    assert deadline.astimezone(STOCKHOLM).hour == 8


def test_support_hours_follow_stockholm_local_time_when_summer_time_ends() -> None:
    """Friday 23 October 2026 16:00 CEST + 2 h = Monday 26 October 09:00 CET (UTC+1)."""
    deadline = CLOCK.add_working_hours(at(2026, 10, 23, 16, 0), 2)
    assert deadline == dt.datetime(2026, 10, 26, 8, 0, tzinfo=dt.UTC)


def test_calendar_days_keep_the_wall_clock_time_across_a_summer_time_change() -> None:
    """§ 3.5.1 "6 dagar": Thursday 26 March 2026 10:00 CET + 6 days = Wednesday 1 April
    10:00 CEST, which is 143 elapsed hours, not 144."""
    start = at(2026, 3, 26, 10, 0)
    deadline = CLOCK.add_calendar_days(start, 6)
    assert deadline == at(2026, 4, 1, 10, 0)
    assert deadline.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=143)


def test_calendar_days_run_over_weekends_and_holidays() -> None:
    """Tuesday 22 December 2026 09:00 + 6 days = Monday 28 December 09:00, Christmas or not."""
    assert CLOCK.add_calendar_days(at(2026, 12, 22, 9, 0), 6) == at(2026, 12, 28, 9, 0)


def test_service_times_choose_their_arithmetic() -> None:
    start = at(2026, 11, 25, 16, 0)  # Wednesday
    assert CLOCK.deadline(start, minutes(30)) == at(2026, 11, 25, 16, 30)
    assert CLOCK.deadline(start, hours(8)) == at(2026, 11, 26, 15, 0)
    assert CLOCK.deadline(start, working_days(2)) == at(2026, 11, 27, 16, 0)
    assert CLOCK.deadline(start, calendar_days(6)) == at(2026, 12, 1, 16, 0)


def test_working_minutes_between_counts_only_support_time() -> None:
    """Friday 16:00 to Monday 09:00 used 120 support minutes."""
    assert CLOCK.working_minutes_between(at(2026, 11, 27, 16, 0), at(2026, 11, 30, 9, 0)) == 120
    assert CLOCK.working_minutes_between(at(2026, 11, 28, 9, 0), at(2026, 11, 29, 9, 0)) == 0


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CLOCK.is_open(dt.datetime(2026, 11, 25, 9, 0))


@given(
    start=st.datetimes(
        min_value=dt.datetime(2026, 1, 1),
        max_value=dt.datetime(2027, 12, 31),
        timezones=st.just(STOCKHOLM),
    ),
    count=st.integers(min_value=1, max_value=5_000),
)
def test_adding_support_minutes_uses_exactly_that_many_support_minutes(
    start: dt.datetime, count: int
) -> None:
    """Whatever the start, the deadline lies in support time and the interval holds
    exactly ``count`` support minutes."""
    deadline = CLOCK.add_working_minutes(start, count)
    assert CLOCK.is_open(deadline)
    assert CLOCK.working_minutes_between(start, deadline) == count
