"""Working days: Monday to Friday, except Swedish public holidays.

The holidays themselves come from outside the domain (a maintained calendar library,
``adapters/calendar/``), as a ``HolidayCalendar``; the domain only counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs


class HolidayCalendar(Protocol):
    def is_holiday(self, day: dt.date) -> bool: ...


@attrs.frozen
class WorkingCalendar:
    """Counts working days (no weekends, no holidays)."""

    holidays: HolidayCalendar

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.holidays.is_holiday(day)

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The working day ``count`` working days after ``day`` (``count`` >= 0).

        ``add_working_days(d, 0)`` is ``d`` itself when it is a working day, else the next one.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        current = day
        while not self.is_working_day(current):
            current += dt.timedelta(days=1)
        for _ in range(count):
            current += dt.timedelta(days=1)
            while not self.is_working_day(current):
                current += dt.timedelta(days=1)
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``: how many working days after ``start`` ``end`` is."""
        if end <= start:
            return 0
        count = 0
        current = start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count
