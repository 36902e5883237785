"""Where the monthly report's service-management sections come from: injected sources.

Incidents, problems, planned changes and recorded outages are kept by other applications
(service management). The report asks them through these Protocols; a section whose
source is not wired says "no data source" rather than a misleading zero (ADR 0012).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

import attrs


@attrs.frozen
class PriorityFigures:
    """Cases of one priority (CRITICAL, HIGH, MEDIUM, LOW) in the month (Bilaga 4 § 4)."""

    priority: str
    opened: int
    resolved: int
    resolved_in_time: int
    """Resolved within the priority's resolution time (§ 3.3.3, § 3.5.1)."""
    open_at_end: int


@attrs.frozen
class PlannedChange:
    """A planned change (§ 3.5.5): status at reporting time and the follow-up's outcome."""

    reference: str
    priority: str
    status: str
    outcome: str
    planned_start: dt.datetime
    planned_end: dt.datetime


@attrs.frozen
class RecordedOutage:
    """A period the service was unavailable, as recorded outside the query log (e.g. a critical
    incident "the flow is broken" from registration to resolution, or a planned change)."""

    start: dt.datetime
    end: dt.datetime
    planned: bool
    cause: str
    """A code or short non-personal description."""


class IncidentFigures(Protocol):
    def incidents_by_priority(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PriorityFigures]: ...


class ProblemFigures(Protocol):
    def problems_by_priority(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PriorityFigures]: ...


class PlannedChanges(Protocol):
    def planned_changes(self, start: dt.datetime, end: dt.datetime) -> Sequence[PlannedChange]: ...


class OutageRecords(Protocol):
    def outages(self, start: dt.datetime, end: dt.datetime) -> Sequence[RecordedOutage]: ...


class OrganisationNames(Protocol):
    def name_of(self, organisation: str) -> str | None:
        """The registered name of a party (ten digits), ``None`` when it is not one."""
        ...


@attrs.frozen
class ReportSources:
    """The sources wired so far; ``None`` renders as "no data source"."""

    incidents: IncidentFigures | None = None
    problems: ProblemFigures | None = None
    planned_changes: PlannedChanges | None = None
    outages: OutageRecords | None = None
    organisations: OrganisationNames | None = None
