"""What an incident and a problem share: a priority, its two deadlines, and their breaches.

Bilaga 4 § 3.3.3 (incidents) and § 3.5.1 (problems) give each priority a response time and a
resolution time; only the table and the words differ. A case's deadlines are recomputed from
its registration when its priority changes (ADR 0009), and a deadline that passes unmet is
recorded once, as ``DeadlineBreached``.

Stored topics name the concrete aggregate (``...:Incident.Reprioritised``,
``...:Problem.DeadlineBreached``): each aggregate declares the two events in its own body, as
subclasses of the ones here, so the library defines them under its own name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import ClassVar

from eventsourcing.domain import Aggregate

from domain.business_hours import BusinessHours
from domain.clauses import RuleBrokenError
from domain.incident.service_levels import (
    Breach,
    DeadlineKind,
    Deadlines,
    Priority,
    ServiceTargets,
    missed,
)


class ServiceLevelCase(Aggregate):
    """A case on the business-hours clock; a subclass names its targets, clause and noun."""

    TARGETS: ClassVar[Mapping[Priority, ServiceTargets]]
    CLAUSE: ClassVar[str]
    NOUN: ClassVar[str]

    class Reprioritised(Aggregate.Event):
        priority: Priority
        response_due: dt.datetime
        resolution_due: dt.datetime

        def apply(self, aggregate: ServiceLevelCase) -> None:
            aggregate.priority = self.priority
            aggregate.deadlines = Deadlines(self.response_due, self.resolution_due)

    class DeadlineBreached(Aggregate.Event):
        kind: DeadlineKind
        due: dt.datetime
        priority: Priority

        def apply(self, aggregate: ServiceLevelCase) -> None:
            aggregate.breaches.append(Breach(self.kind, self.due, self.priority, self.timestamp))

    def __init__(self) -> None:
        self.priority = Priority.LOW
        self.deadlines: Deadlines | None = None
        self.breaches: list[Breach] = []
        self.responded_at: dt.datetime | None = None
        self.resolved_at: dt.datetime | None = None

    @property
    def registered_at(self) -> dt.datetime:
        return self.created_on

    @property
    def is_resolved(self) -> bool:
        raise NotImplementedError

    def _require_priority_may_change(self) -> None:
        """Refuse a new priority once the case is closed (each aggregate's own words)."""
        raise NotImplementedError

    def prioritise(self, priority: Priority, *, clock: BusinessHours, at: dt.datetime) -> None:
        """A new priority; both deadlines are recomputed from the registration (ADR 0009)."""
        self._require_priority_may_change()
        if priority is self.priority:
            raise RuleBrokenError(f"the {self.NOUN} already has this priority", self.CLAUSE)
        deadlines = Deadlines.compute(self.TARGETS[priority], clock, self.registered_at)
        self.trigger_event(
            self.Reprioritised,
            timestamp=at,
            priority=priority,
            response_due=deadlines.response_due,
            resolution_due=deadlines.resolution_due,
        )

    def record_breaches(self, now: dt.datetime) -> list[DeadlineKind]:
        """Record each deadline that has passed unmet by ``now``, once; returns the new ones."""
        assert self.deadlines is not None
        met = {DeadlineKind.RESPONSE: self.responded_at, DeadlineKind.RESOLUTION: self.resolved_at}
        found = missed(self.deadlines, met, self.breaches, now)
        for kind in found:
            self.trigger_event(
                self.DeadlineBreached,
                timestamp=now,
                kind=kind,
                due=self.deadlines.due(kind),
                priority=self.priority,
            )
        return found
