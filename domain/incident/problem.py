"""The ``Problem`` aggregate: a root-cause investigation behind one or more incidents.

Bilaga 4 § 3.5: a problem is a fault of unknown cause; the root-cause investigation aims
to establish a known error. Its priority combines impact and urgency, and each priority
has the response and resolution times of § 3.5.1. The outcome is a known error: an
opaque reference into the operator's known-error records, and whether a workaround exists.
"""

from __future__ import annotations

import datetime as dt
import enum
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.business_hours import BusinessHours
from domain.clauses import RuleBrokenError
from domain.incident.case import ServiceLevelCase
from domain.incident.service_levels import PROBLEM_TARGETS, Deadlines, Priority
from domain.reference import stored_reference

CLAUSE_PROBLEMS = "004 Bilaga 4 § 3.5, 3.5.1"


class ProblemStatus(enum.Enum):
    REGISTERED = "REGISTERED"
    INVESTIGATING = "INVESTIGATING"
    KNOWN_ERROR = "KNOWN_ERROR"


class Problem(ServiceLevelCase):
    """A root-cause investigation and its service levels."""

    TARGETS = PROBLEM_TARGETS
    CLAUSE = CLAUSE_PROBLEMS
    NOUN = "problem"

    class Registered(Aggregate.Created):
        incident_ids: list[UUID]
        priority: Priority
        response_due: dt.datetime
        resolution_due: dt.datetime

        def apply(self, aggregate: Problem) -> None:
            aggregate.incident_ids = list(self.incident_ids)
            aggregate.priority = self.priority
            aggregate.deadlines = Deadlines(self.response_due, self.resolution_due)

    class IncidentsLinked(Aggregate.Event):
        incident_ids: list[UUID]

        def apply(self, aggregate: Problem) -> None:
            aggregate.incident_ids.extend(self.incident_ids)

    class Reprioritised(ServiceLevelCase.Reprioritised):
        """Stored as ``domain.incident.problem:Problem.Reprioritised``."""

    class InvestigationStarted(Aggregate.Event):
        def apply(self, aggregate: Problem) -> None:
            aggregate.status = ProblemStatus.INVESTIGATING
            aggregate.responded_at = self.timestamp

    class KnownErrorEstablished(Aggregate.Event):
        known_error: str
        workaround_available: bool

        def apply(self, aggregate: Problem) -> None:
            aggregate.status = ProblemStatus.KNOWN_ERROR
            aggregate.resolved_at = self.timestamp
            aggregate.known_error = self.known_error
            aggregate.workaround_available = self.workaround_available

    class DeadlineBreached(ServiceLevelCase.DeadlineBreached):
        """Stored as ``domain.incident.problem:Problem.DeadlineBreached``."""

    def __init__(self) -> None:
        super().__init__()
        self.status = ProblemStatus.REGISTERED
        self.incident_ids: list[UUID] = []
        self.known_error = ""
        self.workaround_available = False

    @classmethod
    def register(
        cls,
        *,
        problem_id: UUID,
        incident_ids: list[UUID],
        priority: Priority,
        clock: BusinessHours,
        at: dt.datetime,
    ) -> Problem:
        unique = list(dict.fromkeys(incident_ids))
        if not unique:
            raise RuleBrokenError("a problem is linked to at least one incident", CLAUSE_PROBLEMS)
        deadlines = Deadlines.compute(PROBLEM_TARGETS[priority], clock, at)
        return cls._create(
            cls.Registered,
            id=problem_id,
            timestamp=at,
            incident_ids=unique,
            priority=priority,
            response_due=deadlines.response_due,
            resolution_due=deadlines.resolution_due,
        )

    @property
    def is_resolved(self) -> bool:
        return self.status is ProblemStatus.KNOWN_ERROR

    def link_incidents(self, incident_ids: list[UUID], *, at: dt.datetime) -> None:
        self._require_open()
        new = [i for i in dict.fromkeys(incident_ids) if i not in self.incident_ids]
        if not new:
            raise RuleBrokenError("the incidents are already linked", CLAUSE_PROBLEMS)
        self.trigger_event(self.IncidentsLinked, timestamp=at, incident_ids=new)

    def start_investigation(self, *, at: dt.datetime) -> None:
        """The root-cause investigation has started (the problem's response)."""
        if self.status is not ProblemStatus.REGISTERED:
            raise RuleBrokenError("a problem's investigation starts once", CLAUSE_PROBLEMS)
        self.trigger_event(self.InvestigationStarted, timestamp=at)
        self.record_breaches(at)

    def establish_known_error(
        self, known_error: str, *, workaround_available: bool, at: dt.datetime
    ) -> None:
        """The root cause is found: the problem becomes a known error (its resolution)."""
        if self.status is not ProblemStatus.INVESTIGATING:
            raise RuleBrokenError(
                "a known error is established once, after the investigation started",
                CLAUSE_PROBLEMS,
            )
        self.trigger_event(
            self.KnownErrorEstablished,
            timestamp=at,
            known_error=stored_reference("known_error", known_error),
            workaround_available=workaround_available,
        )
        self.record_breaches(at)

    def _require_priority_may_change(self) -> None:
        self._require_open()

    def _require_open(self) -> None:
        if self.is_resolved:
            raise RuleBrokenError("a known error is not changed", CLAUSE_PROBLEMS)
