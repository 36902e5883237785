"""The ``Incident`` aggregate: a fault or disturbance handled at the single point of contact.

Lifecycle (Bilaga 4 § 3.3.1.1): registered (by a reporter, or by the monitoring), responded
(work started), resolved, reported back to the reporter. The response and resolution
deadlines follow the priority (§ 3.3.3) and are recomputed from the registration when the
priority changes. A deadline that passes unmet is recorded once, as ``DeadlineBreached``.

An incident opened by the monitoring (§ 3.2, § 3.8) carries its ``Condition``; the
monitoring records when the condition clears and when it comes back, so the single point
of contact sees the loop closed.
"""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.business_hours import BusinessHours
from domain.clauses import RuleBrokenError
from domain.incident.case import ServiceLevelCase
from domain.incident.conditions import Condition
from domain.incident.reporter import Reporter
from domain.incident.service_levels import INCIDENT_TARGETS, Deadlines, Impact, Priority
from domain.providers import Provider
from domain.reference import stored_reference

CLAUSE_INCIDENTS = "004 Bilaga 4 § 3.3.1.1, 3.3.3"
CLAUSE_MONITORING = "004 Bilaga 4 § 3.8"


class IncidentStatus(enum.Enum):
    REGISTERED = "REGISTERED"
    RESPONDED = "RESPONDED"
    RESOLVED = "RESOLVED"
    REPORTED_BACK = "REPORTED_BACK"


def _ordered(providers: list[Provider] | set[Provider] | frozenset[Provider]) -> list[Provider]:
    return [p for p in Provider if p in providers]


class Incident(ServiceLevelCase):
    """One incident and its service levels."""

    TARGETS = INCIDENT_TARGETS
    CLAUSE = CLAUSE_INCIDENTS
    NOUN = "incident"

    class Registered(Aggregate.Created):
        reporter: Reporter
        impact: Impact
        priority: Priority
        providers: list[Provider]
        response_due: dt.datetime
        resolution_due: dt.datetime
        condition: Condition | None
        evidence_query_id: UUID | None

        def apply(self, aggregate: Incident) -> None:
            aggregate.reporter = self.reporter
            aggregate.impact = self.impact
            aggregate.priority = self.priority
            aggregate.providers = list(self.providers)
            aggregate.deadlines = Deadlines(self.response_due, self.resolution_due)
            aggregate.condition = self.condition
            aggregate.condition_active = self.condition is not None
            aggregate.evidence_query_ids = (
                [self.evidence_query_id] if self.evidence_query_id else []
            )

    class Reprioritised(ServiceLevelCase.Reprioritised):
        """Stored as ``domain.incident.incident:Incident.Reprioritised``."""

    class Responded(Aggregate.Event):
        def apply(self, aggregate: Incident) -> None:
            aggregate.status = IncidentStatus.RESPONDED
            aggregate.responded_at = self.timestamp

    class Resolved(Aggregate.Event):
        def apply(self, aggregate: Incident) -> None:
            aggregate.status = IncidentStatus.RESOLVED
            aggregate.resolved_at = self.timestamp

    class ReportedBack(Aggregate.Event):
        def apply(self, aggregate: Incident) -> None:
            aggregate.status = IncidentStatus.REPORTED_BACK
            aggregate.reported_back_at = self.timestamp

    class DeadlineBreached(ServiceLevelCase.DeadlineBreached):
        """Stored as ``domain.incident.incident:Incident.DeadlineBreached``."""

    class ProvidersLinked(Aggregate.Event):
        providers: list[Provider]

        def apply(self, aggregate: Incident) -> None:
            aggregate.providers = _ordered({*aggregate.providers, *self.providers})

    class ConditionCleared(Aggregate.Event):
        query_id: UUID

        def apply(self, aggregate: Incident) -> None:
            aggregate.condition_active = False
            aggregate.condition_cleared_at = self.timestamp
            aggregate.evidence_query_ids.append(self.query_id)

    class ConditionRecurred(Aggregate.Event):
        query_id: UUID

        def apply(self, aggregate: Incident) -> None:
            aggregate.condition_active = True
            aggregate.recurrences += 1
            aggregate.evidence_query_ids.append(self.query_id)

    def __init__(self) -> None:
        super().__init__()
        self.status = IncidentStatus.REGISTERED
        self.reporter = Reporter.monitoring()
        self.impact = Impact.SINGLE_CALLS_UNANSWERED
        self.providers: list[Provider] = []
        self.reported_back_at: dt.datetime | None = None
        self.condition: Condition | None = None
        self.condition_active = False
        self.condition_cleared_at: dt.datetime | None = None
        self.recurrences = 0
        self.evidence_query_ids: list[UUID] = []

    @classmethod
    def register(
        cls,
        *,
        incident_id: UUID,
        reporter: Reporter,
        impact: Impact,
        priority: Priority | None,
        providers: list[Provider],
        clock: BusinessHours,
        at: dt.datetime,
    ) -> Incident:
        """Registered at the single point of contact; the priority defaults to the impact's."""
        if reporter.reference:
            stored_reference("reporter.reference", reporter.reference)
        chosen = priority or impact.priority
        deadlines = Deadlines.compute(INCIDENT_TARGETS[chosen], clock, at)
        return cls._create(
            cls.Registered,
            id=incident_id,
            timestamp=at,
            reporter=reporter,
            impact=impact,
            priority=chosen,
            providers=_ordered(set(providers)),
            response_due=deadlines.response_due,
            resolution_due=deadlines.resolution_due,
            condition=None,
            evidence_query_id=None,
        )

    @classmethod
    def detect(
        cls,
        *,
        incident_id: UUID,
        condition: Condition,
        impact: Impact,
        providers: frozenset[Provider],
        query_id: UUID,
        clock: BusinessHours,
        at: dt.datetime,
    ) -> Incident:
        """Registered by the monitoring for a condition a query showed (§ 3.2, § 3.8), with
        the priority of its impact, as any incident (§ 3.3.3)."""
        deadlines = Deadlines.compute(INCIDENT_TARGETS[impact.priority], clock, at)
        return cls._create(
            cls.Registered,
            id=incident_id,
            timestamp=at,
            reporter=Reporter.monitoring(),
            impact=impact,
            priority=impact.priority,
            providers=_ordered(providers),
            response_due=deadlines.response_due,
            resolution_due=deadlines.resolution_due,
            condition=condition,
            evidence_query_id=query_id,
        )

    @property
    def is_resolved(self) -> bool:
        return self.status in (IncidentStatus.RESOLVED, IncidentStatus.REPORTED_BACK)

    def _require_priority_may_change(self) -> None:
        if self.is_resolved:
            raise RuleBrokenError("a resolved incident keeps its priority", CLAUSE_INCIDENTS)

    def respond(self, *, at: dt.datetime) -> None:
        """Work on the incident has started."""
        if self.status is not IncidentStatus.REGISTERED:
            raise RuleBrokenError("an incident is responded to once", CLAUSE_INCIDENTS)
        self.trigger_event(self.Responded, timestamp=at)
        self.record_breaches(at)

    def resolve(self, *, at: dt.datetime) -> None:
        if self.status is not IncidentStatus.RESPONDED:
            raise RuleBrokenError(
                "an incident is resolved once, after it was responded to", CLAUSE_INCIDENTS
            )
        self.trigger_event(self.Resolved, timestamp=at)
        self.record_breaches(at)

    def report_back(self, *, at: dt.datetime) -> None:
        """The reporter (for the monitoring's incidents: SKR, § 3.2) has been told."""
        if self.status is not IncidentStatus.RESOLVED:
            raise RuleBrokenError(
                "an incident is reported back once, after it was resolved", CLAUSE_INCIDENTS
            )
        self.trigger_event(self.ReportedBack, timestamp=at)

    def observe_condition(
        self, providers: frozenset[Provider], *, query_id: UUID, at: dt.datetime
    ) -> None:
        """A query shows this incident's condition again: note a recurrence, link new providers."""
        self._require_monitored()
        if not self.condition_active:
            self.trigger_event(self.ConditionRecurred, timestamp=at, query_id=query_id)
        new = providers - set(self.providers)
        if new:
            self.trigger_event(self.ProvidersLinked, timestamp=at, providers=_ordered(new))

    def clear_condition(self, *, query_id: UUID, at: dt.datetime) -> None:
        """A query shows the condition has cleared (the loop is closed on the incident)."""
        self._require_monitored()
        if self.condition_active:
            self.trigger_event(self.ConditionCleared, timestamp=at, query_id=query_id)

    def _require_monitored(self) -> None:
        if self.condition is None:
            raise RuleBrokenError(
                "only an incident the monitoring opened has a condition", CLAUSE_MONITORING
            )
        if self.is_resolved:
            raise RuleBrokenError("a resolved incident is not updated", CLAUSE_MONITORING)
