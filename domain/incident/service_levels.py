"""Priorities and the response and resolution times of 004 Bilaga 4 § 3.3.3 and § 3.5.1.

A deadline is the business-hours clock (``domain.business_hours``) applied to the moment
a case was registered. Deadlines are computed once, when a case is registered or its
priority changes, and stored in the event: a later change to the holiday calendar never
rewrites what a deadline was.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Final

import attrs

from domain.business_hours import (
    BusinessHours,
    ServiceTime,
    calendar_days,
    hours,
    minutes,
    working_days,
)


class Priority(enum.Enum):
    """Priority 1-4 (§ 3.3.3): how much the users are affected."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"

    @property
    def number(self) -> int:
        return list(Priority).index(self) + 1

    @classmethod
    def of(cls, number: int) -> Priority:
        if not 1 <= number <= len(cls):
            raise ValueError("a priority is 1 (critical) to 4 (low)")
        return list(cls)[number - 1]


class Impact(enum.Enum):
    """The impact on users that sets an incident's priority (§ 3.3.3, "Påverkan för användare")."""

    FLOW_BROKEN = "FLOW_BROKEN"
    """1 critical: the flow is broken, no call can be answered ("Avbrott i flödet")."""
    TIMEOUTS = "TIMEOUTS"
    """2 high: long response times cause time-outs in some calls."""
    WRONG_INFORMATION = "WRONG_INFORMATION"
    """3 medium: wrong information is delivered in answers."""
    SINGLE_CALLS_UNANSWERED = "SINGLE_CALLS_UNANSWERED"
    """4 low: single calls cannot be answered ("Enstaka anrop kan inte besvaras")."""

    @property
    def priority(self) -> Priority:
        return list(Priority)[list(Impact).index(self)]


@attrs.frozen
class ServiceTargets:
    """A response time and a resolution time, as the agreement's table states them."""

    response: ServiceTime
    resolution: ServiceTime


INCIDENT_TARGETS: Final[Mapping[Priority, ServiceTargets]] = {
    # Bilaga 4 § 3.3.3: Kritisk 30 min / 8 timmar; Hög 60 min / 2 arbetsdagar;
    # Medel 8 timmar / 5 arbetsdagar; Låg 24 timmar / 7 arbetsdagar.
    Priority.CRITICAL: ServiceTargets(minutes(30), hours(8)),
    Priority.HIGH: ServiceTargets(minutes(60), working_days(2)),
    Priority.MEDIUM: ServiceTargets(hours(8), working_days(5)),
    Priority.LOW: ServiceTargets(hours(24), working_days(7)),
}

PROBLEM_TARGETS: Final[Mapping[Priority, ServiceTargets]] = {
    # Bilaga 4 § 3.5.1: Kritisk 1 arbetsdag / 6 dagar; Hög 3 arbetsdag(ar) / 15 arbetsdagar;
    # Medel 4 arbetsdagar / 25 arbetsdagar; Låg 10 arbetsdagar / 60 arbetsdagar.
    Priority.CRITICAL: ServiceTargets(working_days(1), calendar_days(6)),
    Priority.HIGH: ServiceTargets(working_days(3), working_days(15)),
    Priority.MEDIUM: ServiceTargets(working_days(4), working_days(25)),
    Priority.LOW: ServiceTargets(working_days(10), working_days(60)),
}


class DeadlineKind(enum.Enum):
    RESPONSE = "RESPONSE"
    """Work has started ("Responstid")."""
    RESOLUTION = "RESOLUTION"
    """The incident is resolved, or the problem's known error established ("Åtgärdstid")."""


@attrs.frozen
class Deadlines:
    """When a case must be responded to and resolved, on the business-hours clock."""

    response_due: dt.datetime
    resolution_due: dt.datetime

    @classmethod
    def compute(
        cls, targets: ServiceTargets, clock: BusinessHours, registered_at: dt.datetime
    ) -> Deadlines:
        return cls(
            response_due=clock.deadline(registered_at, targets.response),
            resolution_due=clock.deadline(registered_at, targets.resolution),
        )

    def due(self, kind: DeadlineKind) -> dt.datetime:
        return self.response_due if kind is DeadlineKind.RESPONSE else self.resolution_due


@attrs.frozen
class Breach:
    """A deadline that passed unmet: which one, what it was, and at which priority."""

    kind: DeadlineKind
    due: dt.datetime
    priority: Priority
    recorded_at: dt.datetime


def missed(
    deadlines: Deadlines,
    met_at: Mapping[DeadlineKind, dt.datetime | None],
    breaches: list[Breach],
    now: dt.datetime,
) -> list[DeadlineKind]:
    """The deadlines that have passed unmet by ``now`` and are not yet recorded as breached.

    A deadline is met when the work was done at or before it. A breach is recorded once
    per deadline: a new deadline after a priority change can be breached again.
    """
    found: list[DeadlineKind] = []
    for kind in DeadlineKind:
        due = deadlines.due(kind)
        done = met_at.get(kind)
        passed_unmet = (done is None and now > due) or (done is not None and done > due)
        recorded = any(b.kind is kind and b.due == due for b in breaches)
        if passed_unmet and not recorded:
            found.append(kind)
    return found
