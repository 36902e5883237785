"""The monthly report's service-management sections, read from the Incidents store.

Implements the report's sources (``application/audit/report_sources.py``): incidents and
problems by priority with their resolution times (Bilaga 4 § 3.3.3, § 3.5.1), planned
changes (§ 3.5.5), and outages: a critical incident ("the flow is broken", § 3.3.3) from
its registration to its resolution, and every overrun of a planned change's window (§ 3.5.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from application.audit.report_sources import (
    PlannedChange as ReportedChange,
)
from application.audit.report_sources import (
    PriorityFigures,
    RecordedOutage,
    ReportSources,
)
from application.incidents import Incidents
from application.planned_changes import PlannedChanges
from domain.incident.incident import Incident
from domain.incident.problem import Problem
from domain.incident.service_levels import Priority

_ALL = 100_000


def _figures(
    cases: Sequence[Incident | Problem], start: dt.datetime, end: dt.datetime
) -> list[PriorityFigures]:
    figures = []
    for priority in Priority:
        mine = [c for c in cases if c.priority is priority and start <= c.registered_at < end]
        resolved = [c for c in mine if c.resolved_at is not None and c.resolved_at < end]
        in_time = [
            c
            for c in resolved
            if c.deadlines is not None
            and c.resolved_at is not None
            and c.resolved_at <= c.deadlines.resolution_due
        ]
        figures.append(
            PriorityFigures(
                priority=priority.name,
                opened=len(mine),
                resolved=len(resolved),
                resolved_in_time=len(in_time),
                open_at_end=len(mine) - len(resolved),
            )
        )
    return figures


class ServiceManagementFigures:
    def __init__(self, incidents: Incidents, changes: PlannedChanges) -> None:
        self._incidents = incidents
        self._changes = changes

    def incidents_by_priority(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PriorityFigures]:
        return _figures(self._incidents.list_incidents(limit=_ALL), start, end)

    def problems_by_priority(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PriorityFigures]:
        return _figures(self._incidents.list_problems(limit=_ALL), start, end)

    def planned_changes(self, start: dt.datetime, end: dt.datetime) -> Sequence[ReportedChange]:
        return [
            ReportedChange(
                reference=change.reference,
                priority="PLANNED",
                status=change.status.value,
                outcome="OVERRUN" if change.overran else "WITHIN_WINDOW",
                planned_start=change.window_start,
                planned_end=change.window_end,
            )
            for change in self._changes.list(limit=_ALL)
            if change.window_start < end and change.window_end >= start
        ]

    def outages(self, start: dt.datetime, end: dt.datetime) -> Sequence[RecordedOutage]:
        found = []
        for incident in self._incidents.list_incidents(limit=_ALL):
            if incident.priority is not Priority.CRITICAL:
                continue
            until = incident.resolved_at or end
            if incident.registered_at < end and until > start:
                found.append(
                    RecordedOutage(
                        incident.registered_at, until, planned=False, cause="CRITICAL_INCIDENT"
                    )
                )
        for change in self._changes.list(limit=_ALL):
            done = change.completed_at
            if change.overran and done is not None and change.window_end < end and done > start:
                found.append(
                    RecordedOutage(
                        change.window_end, done, planned=False, cause="PLANNED_CHANGE_OVERRUN"
                    )
                )
        return found

    def sources(self) -> ReportSources:
        return ReportSources(incidents=self, problems=self, planned_changes=self, outages=self)
