"""``Incidents`` and ``Escalations`` on the in-memory store, with an injected clock."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from adapters.calendar.swedish_holidays import SwedishHolidays
from adapters.persistence.transcodings import (
    escalation_transcodings,
    incident_transcodings,
)
from application.errors import NotFoundError, RuleViolationError
from application.escalations import Escalations
from application.incidents import Incidents, RecordedBreach
from domain.business_hours import BusinessHours
from domain.calendar import WorkingCalendar
from domain.escalation.aggregate import Stage
from domain.escalation.values import Acting, Party
from domain.incident.incident import IncidentStatus
from domain.incident.reporter import Reporter
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.party.values import PartyRole
from domain.providers import STOCKHOLM, Provider
from tests.fakes import FakeClock

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
HOURS = BusinessHours(WorkingCalendar(SwedishHolidays()))
WEDNESDAY_10 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)
REPORTER = Reporter.organisation("212000-0142", "INC-2026-0042")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY_10)


@pytest.fixture
def incidents(clock: FakeClock) -> Iterator[Incidents]:
    app = Incidents(env=MEMORY, clock=clock, hours=HOURS, transcodings=incident_transcodings())
    yield app
    app.close()


@pytest.fixture
def escalations(clock: FakeClock) -> Iterator[Escalations]:
    app = Escalations(env=MEMORY, clock=clock, transcodings=escalation_transcodings())
    yield app
    app.close()


def test_a_registered_incident_can_be_read_back_with_its_deadlines(incidents: Incidents) -> None:
    incident_id = incidents.register_incident(
        REPORTER, Impact.FLOW_BROKEN, providers=[Provider.SKATTEVERKET, Provider.CSN]
    )
    incident = incidents.get_incident(incident_id)
    assert incident.priority is Priority.CRITICAL
    assert incident.providers == [Provider.CSN, Provider.SKATTEVERKET]
    assert incident.reporter == REPORTER
    assert incident.deadlines is not None
    assert incident.deadlines.response_due == WEDNESDAY_10 + dt.timedelta(minutes=30)


def test_the_scheduled_check_records_each_breach_once_as_the_clock_passes_the_deadline(
    incidents: Incidents, clock: FakeClock
) -> None:
    """Bilaga 4 § 3.3.3 critical: 30 min response; § 3.5.1 critical problem: 1 working day."""
    incident_id = incidents.register_incident(REPORTER, Impact.FLOW_BROKEN)
    problem_id = incidents.register_problem([incident_id], Priority.CRITICAL)
    clock.advance(dt.timedelta(minutes=30))
    assert incidents.record_breaches(clock.now()) == []
    clock.advance(dt.timedelta(minutes=1))
    assert incidents.record_breaches(clock.now()) == [
        RecordedBreach(incident_id, DeadlineKind.RESPONSE)
    ]
    assert incidents.record_breaches(clock.now()) == []
    clock.advance(dt.timedelta(days=1))  # Thursday 10:31: the problem's working day is over
    assert incidents.record_breaches(clock.now()) == [
        RecordedBreach(incident_id, DeadlineKind.RESOLUTION),
        RecordedBreach(problem_id, DeadlineKind.RESPONSE),
    ]
    assert incidents.record_breaches(clock.now()) == []
    assert len(incidents.get_incident(incident_id).breaches) == 2


def test_a_resolved_incident_is_no_longer_checked(incidents: Incidents, clock: FakeClock) -> None:
    incident_id = incidents.register_incident(REPORTER, Impact.TIMEOUTS)
    incidents.respond_to_incident(incident_id)
    incidents.resolve_incident(incident_id)
    incidents.report_incident_back(incident_id)
    clock.advance(dt.timedelta(days=30))
    assert incidents.record_breaches(clock.now()) == []
    assert incidents.get_incident(incident_id).status is IncidentStatus.REPORTED_BACK


def test_a_priority_change_is_reported_with_its_new_deadlines(
    incidents: Incidents, clock: FakeClock
) -> None:
    incident_id = incidents.register_incident(REPORTER, Impact.SINGLE_CALLS_UNANSWERED)
    clock.advance(dt.timedelta(minutes=10))
    changed = incidents.prioritise_incident(incident_id, Priority.HIGH)
    assert changed.deadlines is not None
    assert changed.deadlines.response_due == WEDNESDAY_10 + dt.timedelta(minutes=60)
    assert incidents.get_incident(incident_id).priority is Priority.HIGH


def test_a_broken_rule_is_reported_with_its_clause(incidents: Incidents) -> None:
    incident_id = incidents.register_incident(REPORTER, Impact.TIMEOUTS)
    with pytest.raises(RuleViolationError) as raised:
        incidents.resolve_incident(incident_id)
    assert raised.value.clause == "004 Bilaga 4 § 3.3.1.1, 3.3.3"


def test_unknown_incidents_and_problems_are_not_found(incidents: Incidents) -> None:
    with pytest.raises(NotFoundError, match="no such incident"):
        incidents.respond_to_incident(uuid.uuid4())
    with pytest.raises(NotFoundError, match="no such incident"):
        incidents.register_problem([uuid.uuid4()], Priority.LOW)
    incident_id = incidents.register_incident(REPORTER, Impact.TIMEOUTS)
    with pytest.raises(NotFoundError, match="no such problem"):
        incidents.get_problem(incident_id)


def test_lists_are_newest_first_and_can_leave_out_resolved_cases(
    incidents: Incidents, clock: FakeClock
) -> None:
    first = incidents.register_incident(REPORTER, Impact.TIMEOUTS)
    clock.advance(dt.timedelta(minutes=1))
    second = incidents.register_incident(REPORTER, Impact.WRONG_INFORMATION)
    incidents.respond_to_incident(first)
    incidents.resolve_incident(first)
    assert [i.id for i in incidents.list_incidents()] == [second, first]
    assert [i.id for i in incidents.list_incidents(open_only=True)] == [second]
    assert [i.id for i in incidents.list_incidents(limit=1)] == [second]
    problem_id = incidents.register_problem([first, second], Priority.MEDIUM)
    incidents.start_problem_investigation(problem_id)
    incidents.establish_known_error(problem_id, "KE-2026-3", workaround_available=False)
    assert [p.id for p in incidents.list_problems()] == [problem_id]
    assert incidents.list_problems(open_only=True) == []


MUNICIPALITY = Party("2120000142", PartyRole.MUNICIPALITY)
OPERATOR = Party("2021005521", PartyRole.OPERATOR)
SKR = Party("2220000315", PartyRole.SKR)


def test_an_escalation_climbs_the_ladder_through_the_application(escalations: Escalations) -> None:
    """004 § 10.1-10.3, with SKR acting for the municipality under its power of attorney."""
    skr_for_municipality = Acting(SKR, MUNICIPALITY, "FULLMAKT-2026-07")
    escalation_id = escalations.raise_dispute(
        skr_for_municipality, [MUNICIPALITY, OPERATOR], "DNR-2026/481"
    )
    escalations.escalate(escalation_id, skr_for_municipality)
    escalations.submit_view(escalation_id, skr_for_municipality, "VIEW-1")
    escalations.submit_view(escalation_id, Acting(OPERATOR), "VIEW-2")
    escalations.record_recommendation(escalation_id, "REC-1")
    escalations.escalate(escalation_id, Acting(OPERATOR))
    decided = escalations.decide(escalation_id, "BESLUT-1")
    assert decided.stage is Stage.DECIDED
    assert [e.id for e in escalations.list_escalations()] == [escalation_id]
    assert escalations.list_escalations(open_only=True) == []


def test_an_escalation_rule_is_reported_and_an_unknown_one_is_not_found(
    escalations: Escalations,
) -> None:
    escalation_id = escalations.raise_dispute(Acting(OPERATOR), [MUNICIPALITY, OPERATOR], "D-1")
    with pytest.raises(RuleViolationError) as raised:
        escalations.decide(escalation_id, "BESLUT-1")
    assert raised.value.clause == "004 § 10.3"
    with pytest.raises(NotFoundError, match="no such escalation"):
        escalations.settle(uuid.uuid4(), "X")


def test_pages_of_open_incidents_skip_resolved_ones_and_end_with_no_next_page(
    incidents: Incidents,
) -> None:
    ids = [incidents.register_incident(REPORTER, Impact.TIMEOUTS) for _ in range(5)]
    for resolved in (ids[3], ids[1]):
        incidents.respond_to_incident(resolved)
        incidents.resolve_incident(resolved)
    first = incidents.page_incidents(open_only=True, limit=2)
    assert [i.id for i in first.items] == [ids[4], ids[2]]
    assert first.next_before is not None
    second = incidents.page_incidents(open_only=True, limit=2, before=first.next_before)
    assert [i.id for i in second.items] == [ids[0]]
    assert second.next_before is None
    exact = incidents.page_incidents(limit=5)
    assert [i.id for i in exact.items] == ids[::-1]
    assert exact.next_before is None


def _self_calls(function: object) -> list[str]:
    """The ``self.<name>(...)`` calls of ``function``, in the order they stand in its source."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    ]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [node.func.attr for node in calls if isinstance(node.func, ast.Attribute)]


def test_a_section_is_processed_with_the_library_s_own_steps_in_its_order() -> None:
    """``Incidents._process_section`` records a whole pulled section as the library's
    ``process_event`` records one event: policy, ``_record``, ``_take_snapshots``, ``notify``,
    ``_notify``. If a new release of the library changes its steps, this fails: check the
    section's steps again (ADR 10)."""
    from eventsourcing.projection import EventSourcedProjection

    from application.incidents import Incidents

    steps = ["policy", "_record", "_take_snapshots", "notify", "_notify"]
    assert _self_calls(EventSourcedProjection.process_event) == steps
    section = [s for s in _self_calls(Incidents._process_section) if s in steps]
    assert section == steps
