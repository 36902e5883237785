"""The business-hours clock of 004 Bilaga 4: support hours Monday-Friday 08:00-17:00.

Opening hours (§ 3.1.1) and support hours (§ 3.3.2) are the same: weekdays 08:00-17:00
Europe/Stockholm, never on a weekend or a public holiday. Service-level times are counted
on this clock (ADR 0009):

- minutes and hours (``30 min``, ``8 timmar``, ``24 timmar``) are support-hour minutes:
  the clock stops at 17:00 and starts again at 08:00 on the next working day;
- a working day (``arbetsdag``) is one full support day, 9 support hours, so "2 working
  days" from Tuesday 10:00 is Thursday 10:00;
- "days" (``6 dagar``, § 3.5.1, the only time without "arbets-") are calendar days on the
  Stockholm wall clock, counted from the moment the clock starts.

Every clock starts at the first support minute at or after the registration (§ 2.4:
the service levels cover what happens after a case is registered at the single point of
contact). When a budget runs out exactly at closing time, the deadline is the next
opening: no support minute passes in between, so work done in the evening is on time.

The calendar of working days is passed in (``domain.calendar.WorkingCalendar``); the
domain never builds it.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Final
from zoneinfo import ZoneInfo

import attrs

from domain.calendar import WorkingCalendar
from domain.providers import STOCKHOLM

SUPPORT_OPENS: Final = dt.time(8, 0)
SUPPORT_CLOSES: Final = dt.time(17, 0)


class TimeUnit(enum.Enum):
    """How a service-level time is counted."""

    SUPPORT_MINUTES = "SUPPORT_MINUTES"
    SUPPORT_HOURS = "SUPPORT_HOURS"
    WORKING_DAYS = "WORKING_DAYS"
    CALENDAR_DAYS = "CALENDAR_DAYS"


@attrs.frozen
class ServiceTime:
    """A response or resolution time as the agreement states it: ``30 min``, ``2 arbetsdagar``."""

    amount: int
    unit: TimeUnit

    def __attrs_post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("a service time is never negative")

    def __str__(self) -> str:
        names = {
            TimeUnit.SUPPORT_MINUTES: "min",
            TimeUnit.SUPPORT_HOURS: "support hours",
            TimeUnit.WORKING_DAYS: "working days",
            TimeUnit.CALENDAR_DAYS: "days",
        }
        return f"{self.amount} {names[self.unit]}"


def minutes(amount: int) -> ServiceTime:
    return ServiceTime(amount, TimeUnit.SUPPORT_MINUTES)


def hours(amount: int) -> ServiceTime:
    return ServiceTime(amount, TimeUnit.SUPPORT_HOURS)


def working_days(amount: int) -> ServiceTime:
    return ServiceTime(amount, TimeUnit.WORKING_DAYS)


def calendar_days(amount: int) -> ServiceTime:
    return ServiceTime(amount, TimeUnit.CALENDAR_DAYS)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("the business-hours clock needs an aware datetime")
    return moment


@attrs.frozen
class BusinessHours:
    """Support hours on working days, in local time of ``zone``."""

    calendar: WorkingCalendar
    opens: dt.time = SUPPORT_OPENS
    closes: dt.time = SUPPORT_CLOSES
    zone: ZoneInfo = STOCKHOLM

    @property
    def minutes_per_working_day(self) -> int:
        start = dt.datetime.combine(dt.date(2000, 1, 3), self.opens)
        return int((dt.datetime.combine(start.date(), self.closes) - start).total_seconds() // 60)

    def is_open(self, moment: dt.datetime) -> bool:
        local = _aware(moment).astimezone(self.zone)
        return (
            self.calendar.is_working_day(local.date()) and self.opens <= local.time() < self.closes
        )

    def clock_start(self, moment: dt.datetime) -> dt.datetime:
        """The first support minute at or after ``moment``: the moment itself when open."""
        local = _aware(moment).astimezone(self.zone)
        day = local.date()
        if self.calendar.is_working_day(day):
            if local < self._at(day, self.opens):
                return self._at(day, self.opens)
            if local < self._at(day, self.closes):
                return local
        return self._next_opening(day + dt.timedelta(days=1))

    def add_working_minutes(self, start: dt.datetime, count: int) -> dt.datetime:
        """The moment ``count`` support minutes after ``start`` (the clock stops when closed)."""
        if count < 0:
            raise ValueError("count must not be negative")
        current = self.clock_start(start)
        remaining = dt.timedelta(minutes=count)
        while True:
            available = self._at(current.date(), self.closes) - current
            if remaining < available:
                return current + remaining
            remaining -= available
            current = self._next_opening(current.date() + dt.timedelta(days=1))
            if not remaining:
                return current

    def add_working_hours(self, start: dt.datetime, count: int) -> dt.datetime:
        return self.add_working_minutes(start, count * 60)

    def add_working_days(self, start: dt.datetime, count: int) -> dt.datetime:
        """The same support minute ``count`` working days later (a working day is 9 hours)."""
        return self.add_working_minutes(start, count * self.minutes_per_working_day)

    def add_calendar_days(self, start: dt.datetime, count: int) -> dt.datetime:
        """``count`` days on the Stockholm wall clock after the clock starts (DST-safe)."""
        if count < 0:
            raise ValueError("count must not be negative")
        begun = self.clock_start(start)
        day = begun.date() + dt.timedelta(days=count)
        return dt.datetime.combine(day, begun.time(), tzinfo=self.zone)

    def deadline(self, start: dt.datetime, time: ServiceTime) -> dt.datetime:
        """When a service-level time that starts at ``start`` runs out."""
        match time.unit:
            case TimeUnit.SUPPORT_MINUTES:
                return self.add_working_minutes(start, time.amount)
            case TimeUnit.SUPPORT_HOURS:
                return self.add_working_hours(start, time.amount)
            case TimeUnit.WORKING_DAYS:
                return self.add_working_days(start, time.amount)
            case TimeUnit.CALENDAR_DAYS:
                return self.add_calendar_days(start, time.amount)

    def working_minutes_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Support minutes in ``[start, end)``: how much of a budget the interval used."""
        current = self.clock_start(start)
        until = _aware(end).astimezone(self.zone)
        total = dt.timedelta()
        while current < until:
            close = self._at(current.date(), self.closes)
            total += min(close, until) - current
            current = self._next_opening(current.date() + dt.timedelta(days=1))
        return int(total.total_seconds() // 60)

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.zone)

    def _next_opening(self, day: dt.date) -> dt.datetime:
        while not self.calendar.is_working_day(day):
            day += dt.timedelta(days=1)
        return self._at(day, self.opens)
