"""Composition of service management: the ``Incidents`` and ``Escalations`` applications.

Each application has its own store (on SQLite its own file, on PostgreSQL its own tables;
``infrastructure.bootstrap.persistence_env``). ``Incidents`` follows the ``Queries``
application's notification log when one is given; the jobs the server schedules
(``ServiceManagement.process_queries`` and ``record_breaches``) run the synchronous
store work in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Final

import attrs

from adapters.calendar.swedish_holidays import SwedishHolidays
from adapters.persistence.transcodings import (
    escalation_transcodings,
    incident_transcodings,
)
from application.escalations import Escalations
from application.ports import Clock
from application.queries import Queries
from application.service_management import Incidents, RecordedBreach
from domain.business_hours import BusinessHours
from domain.calendar import HolidayCalendar, WorkingCalendar
from infrastructure.bootstrap import persistence_env
from infrastructure.scheduler import run_periodically
from infrastructure.settings import Settings

FOLLOW_INTERVAL_S: Final = 2.0
BREACH_INTERVAL_S: Final = 60.0


@attrs.frozen
class ServiceManagement:
    """The two applications, the clock they share, and the jobs to schedule."""

    incidents: Incidents
    escalations: Escalations
    clock: Clock

    async def process_queries(self) -> None:
        """Open, update and clear automatic incidents from the new query events."""
        await asyncio.to_thread(self.incidents.process_queries)

    async def record_breaches(self) -> list[RecordedBreach]:
        """Record the deadlines that have passed unmet, by the clock's time now."""
        return await asyncio.to_thread(self.incidents.record_breaches, self.clock.now())

    async def run(
        self,
        stop: asyncio.Event,
        *,
        follow_interval_s: float = FOLLOW_INTERVAL_S,
        breach_interval_s: float = BREACH_INTERVAL_S,
    ) -> None:
        """Both jobs until ``stop`` is set (following the queries only when wired to them)."""
        jobs = [run_periodically(breach_interval_s, self._record_breaches, stop)]
        if self.incidents.follows_queries:
            jobs.append(run_periodically(follow_interval_s, self.process_queries, stop))
        await asyncio.gather(*jobs)

    async def _record_breaches(self) -> None:
        await self.record_breaches()

    def close(self) -> None:
        self.incidents.close()
        self.escalations.close()


def build_service_management(
    settings: Settings,
    *,
    clock: Clock,
    queries: Queries | None = None,
    holidays: HolidayCalendar | None = None,
) -> ServiceManagement:
    """The applications on the configured store; ``Incidents`` follows ``queries`` if given."""
    hours = BusinessHours(WorkingCalendar(holidays or SwedishHolidays()))
    incidents = Incidents(
        env=persistence_env(settings, "incidents"),
        clock=clock,
        hours=hours,
        transcodings=incident_transcodings(),
    )
    if queries is not None:
        incidents.follow_queries(queries)
    escalations = Escalations(
        env=persistence_env(settings, "escalations"),
        clock=clock,
        transcodings=escalation_transcodings(),
    )
    return ServiceManagement(incidents, escalations, clock)
