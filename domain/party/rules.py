"""How the agreement's dates are computed. Pure functions of dates (and a working calendar);
ADR 0008 explains each reading of the clauses.

Every day is a Swedish calendar day: a moment becomes a date in Europe/Stockholm.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from domain.calendar import WorkingCalendar
from domain.party.values import BreachNotifier
from domain.providers import STOCKHOLM

CONNECTION_WORKING_DAYS: Final = 10
"""The operator connects a municipality within 10 working days of approval (004 § 9.2.7)."""
CURE_DAYS: Final = {BreachNotifier.SKR: 60, BreachNotifier.OPERATOR: 30}
"""Days to cure a breach after the written notice (004 § 18.1; 001 § 7.1)."""
COMPLIANCE_DAYS: Final = 30
"""Days to meet a provider's changed qualification conditions (001 § 7.2)."""
LAST_NOTICE_MONTH_DAY: Final = (6, 30)
"""Six months before a calendar year's end is the end of 30 June (004 § 17.1)."""

CLAUSE_CURE: Final = {BreachNotifier.SKR: "004 § 18.1", BreachNotifier.OPERATOR: "001 § 7.1"}


def local_date(at: dt.datetime) -> dt.date:
    """The Swedish calendar date of a moment."""
    if at.tzinfo is None:
        raise ValueError("a moment must be timezone-aware")
    return at.astimezone(STOCKHOLM).date()


def connection_target(approved_on: dt.date, calendar: WorkingCalendar) -> dt.date:
    """The 10th working day after the day of approval (the approval day itself never counts)."""
    first_working_day_after = calendar.add_working_days(approved_on + dt.timedelta(days=1), 0)
    return calendar.add_working_days(first_working_day_after, CONNECTION_WORKING_DAYS - 1)


def withdrawal_effective_on(notice_on: dt.date) -> dt.date:
    """31 December of the notice's year if given by 30 June, else of the next year (004 § 17.1)."""
    month, day = LAST_NOTICE_MONTH_DAY
    in_time = notice_on <= dt.date(notice_on.year, month, day)
    return dt.date(notice_on.year if in_time else notice_on.year + 1, 12, 31)


def cure_period_ends_on(notified_on: dt.date, notified_by: BreachNotifier) -> dt.date:
    """The last day to cure: 60 (SKR) or 30 (operator) calendar days after the notice's day."""
    return notified_on + dt.timedelta(days=CURE_DAYS[notified_by])


def comply_by(notified_on: dt.date) -> dt.date:
    """The last day to meet a provider's changed conditions: 30 days after its notice."""
    return notified_on + dt.timedelta(days=COMPLIANCE_DAYS)
