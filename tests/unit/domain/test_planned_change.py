"""Planned changes (004 Bilaga 4 § 3.5.2-3.5.5)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from adapters.calendar.swedish_holidays import SwedishHolidays
from domain.business_hours import BusinessHours
from domain.calendar import WorkingCalendar
from domain.clauses import RuleBrokenError
from domain.incident.planned_change import ChangeStatus, PlannedChange
from domain.providers import STOCKHOLM

HOURS = BusinessHours(WorkingCalendar(SwedishHolidays()))
NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=STOCKHOLM)  # a Monday


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


def announce(start: dt.datetime, end: dt.datetime, now: dt.datetime = NOW) -> PlannedChange:
    return PlannedChange.announce(
        change_id=uuid.uuid4(),
        reference="CHG-0042",
        window_start=start,
        window_end=end,
        hours=HOURS,
        at=now,
    )


def test_a_change_announced_four_weeks_ahead_outside_opening_hours_is_accepted() -> None:
    """§ 3.5.5: at least 4 weeks; § 3.5.2: outside opening hours (Friday 18:00-23:00)."""
    change = announce(at(4, 18), at(4, 23))
    assert change.status is ChangeStatus.ANNOUNCED


def test_a_change_announced_less_than_four_weeks_ahead_is_refused() -> None:
    with pytest.raises(RuleBrokenError) as refused:
        announce(at(4, 18), at(4, 23), now=at(7, 10, month=11))
    assert refused.value.clause == "004 Bilaga 4 § 3.5.5"


def test_a_window_that_touches_opening_hours_is_refused() -> None:
    """§ 3.5.2: all plannable work happens outside opening hours (Mon-Fri 08:00-17:00)."""
    with pytest.raises(RuleBrokenError, match="outside the service's opening hours"):
        announce(at(4, 16, 30), at(4, 20))
    announce(at(5, 8), at(5, 18))  # a Saturday is outside opening hours all day


def test_an_overrun_into_opening_hours_counts_as_unavailability() -> None:
    """§ 3.5.2: time by which a window is overrun counts as unavailability."""
    change = announce(at(6, 22), at(7, 6))  # Sunday night to Monday 06:00
    change.complete(hours=HOURS, at=at(7, 8, 45))
    assert change.overran
    assert change.overrun_minutes == 165
    assert change.overrun_opening_minutes == 45


def test_a_change_finished_within_its_window_has_no_overrun_and_completes_once() -> None:
    change = announce(at(4, 18), at(4, 23))
    change.complete(hours=HOURS, at=at(4, 22))
    assert not change.overran
    with pytest.raises(RuleBrokenError):
        change.complete(hours=HOURS, at=at(4, 23))
