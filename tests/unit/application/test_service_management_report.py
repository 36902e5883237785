"""The monthly report's service-management figures, read from a real Incidents store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from application.service_management_report import ServiceManagementFigures
from domain.incident.reporter import Reporter
from domain.incident.service_levels import Impact, Priority
from domain.providers import STOCKHOLM
from infrastructure.composition import build_service_management
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock

MONTH_START = dt.datetime(2026, 11, 1, tzinfo=STOCKHOLM)
MONTH_END = dt.datetime(2026, 12, 1, tzinfo=STOCKHOLM)


def test_incidents_by_priority_outages_and_overrun_changes_come_from_the_store(
    tmp_path: Path,
) -> None:
    clock = FakeClock(dt.datetime(2026, 11, 2, 9, 0, tzinfo=STOCKHOLM))  # a Monday
    management = build_service_management(
        Settings(store=Store.MEMORY, data_dir=tmp_path), clock=clock
    )
    incidents = management.incidents
    reporter = Reporter.organisation("2120000142", "INC-1")
    critical = incidents.register_incident(reporter, Impact.FLOW_BROKEN)
    low = incidents.register_incident(reporter, Impact.SINGLE_CALLS_UNANSWERED)
    clock.advance(dt.timedelta(minutes=10))
    incidents.respond_to_incident(critical)
    clock.advance(dt.timedelta(hours=2))
    incidents.resolve_incident(critical)  # within 8 support hours
    changes = management.changes
    change = changes.announce(
        "CHG-7",
        dt.datetime(2026, 12, 6, 22, tzinfo=STOCKHOLM),
        dt.datetime(2026, 12, 7, 6, tzinfo=STOCKHOLM),
    )
    figures = ServiceManagementFigures(incidents, changes)

    by_priority = {f.priority: f for f in figures.incidents_by_priority(MONTH_START, MONTH_END)}
    assert (by_priority["CRITICAL"].opened, by_priority["CRITICAL"].resolved_in_time) == (1, 1)
    assert (by_priority["LOW"].opened, by_priority["LOW"].open_at_end) == (1, 1)
    assert by_priority["HIGH"].opened == 0
    (outage,) = figures.outages(MONTH_START, MONTH_END)
    assert outage.cause == "CRITICAL_INCIDENT"
    assert outage.end - outage.start == dt.timedelta(hours=2, minutes=10)
    assert low in {i.id for i in incidents.list_incidents(open_only=True)}

    clock.advance(dt.datetime(2026, 12, 7, 8, 30, tzinfo=STOCKHOLM) - clock.now())
    changes.complete(change.id)
    december = (MONTH_END, dt.datetime(2027, 1, 1, tzinfo=STOCKHOLM))
    (reported,) = figures.planned_changes(*december)
    assert (reported.reference, reported.outcome) == ("CHG-7", "OVERRUN")
    overruns = [o for o in figures.outages(*december) if o.cause == "PLANNED_CHANGE_OVERRUN"]
    assert [o.end - o.start for o in overruns] == [dt.timedelta(hours=2, minutes=30)]
    assert Priority.CRITICAL.name in by_priority
    management.close()
