"""Incidents and problems on the business-hours clock: 004 Bilaga 4 § 3.3.3 and § 3.5.1."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from adapters.calendar.swedish_holidays import SwedishHolidays
from domain.business_hours import BusinessHours
from domain.calendar import WorkingCalendar
from domain.clauses import RuleBrokenError
from domain.errors import InvalidValueError
from domain.incident.incident import Incident, IncidentStatus
from domain.incident.problem import Problem, ProblemStatus
from domain.incident.reporter import Reporter
from domain.incident.service_levels import DeadlineKind, Impact, Priority
from domain.providers import STOCKHOLM, Provider

CALENDAR = WorkingCalendar(SwedishHolidays())
HOURS = BusinessHours(CALENDAR)
REPORTER = Reporter.organisation("212000-0142", "INC-2026-0042")


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


WEDNESDAY_10 = at(11, 25, 10)


def incident(priority: Priority | None = None, impact: Impact = Impact.TIMEOUTS) -> Incident:
    return Incident.register(
        incident_id=uuid.uuid4(),
        reporter=REPORTER,
        impact=impact,
        priority=priority,
        providers=[Provider.CSN],
        clock=HOURS,
        at=WEDNESDAY_10,
    )


def problem(priority: Priority) -> Problem:
    return Problem.register(
        problem_id=uuid.uuid4(),
        incident_ids=[uuid.uuid4()],
        priority=priority,
        clock=HOURS,
        at=WEDNESDAY_10,
    )


@pytest.mark.parametrize(
    ("priority", "response_due", "resolution_due"),
    [
        # Kritisk: 30 min / 8 timmar (7 h on Wednesday, 1 h on Thursday).
        (Priority.CRITICAL, at(11, 25, 10, 30), at(11, 26, 9)),
        # Hög: 60 min / 2 arbetsdagar.
        (Priority.HIGH, at(11, 25, 11), at(11, 27, 10)),
        # Medel: 8 timmar / 5 arbetsdagar.
        (Priority.MEDIUM, at(11, 26, 9), at(12, 2, 10)),
        # Låg: 24 timmar (7 + 9 + 8 support hours) / 7 arbetsdagar.
        (Priority.LOW, at(11, 27, 16), at(12, 4, 10)),
    ],
)
def test_an_incidents_deadlines_follow_the_priority_table(
    priority: Priority, response_due: dt.datetime, resolution_due: dt.datetime
) -> None:
    """Bilaga 4 § 3.3.3, registered on Wednesday 25 November 2026 at 10:00."""
    registered = incident(priority)
    assert registered.deadlines is not None
    assert registered.deadlines.response_due == response_due
    assert registered.deadlines.resolution_due == resolution_due


@pytest.mark.parametrize(
    ("impact", "priority"),
    [
        (Impact.FLOW_BROKEN, Priority.CRITICAL),
        (Impact.TIMEOUTS, Priority.HIGH),
        (Impact.WRONG_INFORMATION, Priority.MEDIUM),
        (Impact.SINGLE_CALLS_UNANSWERED, Priority.LOW),
    ],
)
def test_the_impact_on_users_sets_the_default_priority(impact: Impact, priority: Priority) -> None:
    """§ 3.3.3 "Påverkan för användare": 1 kritisk ... 4 låg."""
    assert incident(impact=impact).priority is priority
    assert priority.number == list(Priority).index(priority) + 1


def test_a_priority_change_recomputes_both_deadlines_from_the_registration() -> None:
    """Raised from low to critical at 10:20: due 10:30 and Thursday 09:00, as if registered so."""
    low = incident(Priority.LOW)
    low.prioritise(Priority.CRITICAL, clock=HOURS, at=at(11, 25, 10, 20))
    assert low.priority is Priority.CRITICAL
    assert low.deadlines is not None
    assert (low.deadlines.response_due, low.deadlines.resolution_due) == (
        at(11, 25, 10, 30),
        at(11, 26, 9),
    )


def test_a_breach_is_recorded_once_when_the_deadline_passes_unmet() -> None:
    critical = incident(Priority.CRITICAL)
    assert critical.record_breaches(at(11, 25, 10, 30)) == []  # due, not yet passed
    assert critical.record_breaches(at(11, 25, 10, 31)) == [DeadlineKind.RESPONSE]
    assert critical.record_breaches(at(11, 25, 10, 45)) == []
    assert critical.record_breaches(at(11, 26, 9, 1)) == [DeadlineKind.RESOLUTION]
    assert critical.record_breaches(at(11, 27, 9)) == []
    assert [(b.kind, b.due, b.priority) for b in critical.breaches] == [
        (DeadlineKind.RESPONSE, at(11, 25, 10, 30), Priority.CRITICAL),
        (DeadlineKind.RESOLUTION, at(11, 26, 9), Priority.CRITICAL),
    ]


def test_a_late_response_records_its_breach_even_before_the_check_ran() -> None:
    critical = incident(Priority.CRITICAL)
    critical.respond(at=at(11, 25, 10, 45))
    assert [b.kind for b in critical.breaches] == [DeadlineKind.RESPONSE]
    assert critical.record_breaches(at(11, 25, 11)) == []


def test_work_on_time_breaches_nothing() -> None:
    high = incident(Priority.HIGH)
    high.respond(at=at(11, 25, 10, 59))
    high.resolve(at=at(11, 27, 10))
    high.report_back(at=at(11, 30, 9))
    assert high.status is IncidentStatus.REPORTED_BACK
    assert high.record_breaches(at(12, 31, 12)) == []
    assert high.breaches == []


def test_a_new_deadline_after_a_priority_change_can_be_breached_again() -> None:
    """The breach of the low response deadline stays; the high one is a new deadline."""
    low = incident(Priority.LOW)
    assert low.record_breaches(at(11, 27, 16, 1)) == [DeadlineKind.RESPONSE]
    low.prioritise(Priority.MEDIUM, clock=HOURS, at=at(11, 27, 16, 2))
    assert low.record_breaches(at(11, 27, 16, 3)) == [DeadlineKind.RESPONSE]
    assert [b.priority for b in low.breaches] == [Priority.LOW, Priority.MEDIUM]


@pytest.mark.parametrize(
    "steps",
    [
        ["resolve"],
        ["report_back"],
        ["respond", "respond"],
        ["respond", "report_back"],
        ["respond", "resolve", "resolve"],
    ],
)
def test_the_lifecycle_runs_registered_responded_resolved_reported_back(
    steps: list[str],
) -> None:
    """Bilaga 4 § 3.3.1.1: work starts, the fault is remedied, the reporter is told."""
    case = incident()
    *allowed, refused = steps
    for step in allowed:
        getattr(case, step)(at=at(11, 25, 10, 5))
    with pytest.raises(RuleBrokenError):
        getattr(case, refused)(at=at(11, 25, 10, 6))


def test_a_resolved_incident_keeps_its_priority() -> None:
    case = incident(Priority.HIGH)
    case.respond(at=at(11, 25, 10, 5))
    case.resolve(at=at(11, 25, 10, 6))
    with pytest.raises(RuleBrokenError, match="keeps its priority"):
        case.prioritise(Priority.LOW, clock=HOURS, at=at(11, 25, 10, 7))


@pytest.mark.parametrize(
    "reference",
    ["19121212-1212", "191212121212", "PNR-121212-1212", "KUND-19121272-1219", "Anna Svensson", ""],
)
def test_a_reporter_is_an_organisation_and_a_reference_never_a_person(reference: str) -> None:
    """ADR 0004: no name or personnummer reaches an event through a reporter."""
    with pytest.raises(InvalidValueError):
        Reporter.organisation("212000-0142", reference)


@pytest.mark.parametrize("reference", ["INC0012345678", "ORG-212000-0142", "DNR-2026/481#3"])
def test_ticket_numbers_and_organisation_numbers_are_acceptable_references(reference: str) -> None:
    assert Reporter.organisation("212000-0142", reference).reference == reference


@pytest.mark.parametrize(
    ("priority", "response_due", "resolution_due"),
    [
        # Kritisk: 1 arbetsdag / 6 dagar (calendar days).
        (Priority.CRITICAL, at(11, 26, 10), at(12, 1, 10)),
        # Hög: 3 arbetsdag(ar) / 15 arbetsdagar.
        (Priority.HIGH, at(11, 30, 10), at(12, 16, 10)),
        # Medel: 4 arbetsdagar / 25 arbetsdagar (Christmas and New Year skipped).
        (Priority.MEDIUM, at(12, 1, 10), at(1, 5, 10, year=2027)),
        # Låg: 10 arbetsdagar / 60 arbetsdagar (Epiphany skipped too).
        (Priority.LOW, at(12, 9, 10), at(2, 24, 10, year=2027)),
    ],
)
def test_a_problems_deadlines_follow_the_problem_table(
    priority: Priority, response_due: dt.datetime, resolution_due: dt.datetime
) -> None:
    """Bilaga 4 § 3.5.1, registered on Wednesday 25 November 2026 at 10:00."""
    registered = problem(priority)
    assert registered.deadlines is not None
    assert registered.deadlines.response_due == response_due
    assert registered.deadlines.resolution_due == resolution_due


def test_working_day_deadlines_agree_with_the_working_calendar() -> None:
    """The support-minute arithmetic and the date arithmetic of ``WorkingCalendar`` agree."""
    for priority, days in ((Priority.HIGH, 15), (Priority.MEDIUM, 25), (Priority.LOW, 60)):
        deadlines = problem(priority).deadlines
        assert deadlines is not None
        assert deadlines.resolution_due.date() == CALENDAR.add_working_days(
            WEDNESDAY_10.date(), days
        )


def test_a_problem_investigation_ends_in_a_known_error() -> None:
    """§ 3.5: the root-cause investigation aims to establish a known error."""
    case = problem(Priority.HIGH)
    with pytest.raises(RuleBrokenError):
        case.establish_known_error("KE-17", workaround_available=True, at=at(11, 25, 11))
    case.start_investigation(at=at(11, 25, 11))
    case.establish_known_error("KE-17", workaround_available=True, at=at(12, 1, 9))
    assert case.status is ProblemStatus.KNOWN_ERROR
    assert (case.known_error, case.workaround_available) == ("KE-17", True)
    assert case.breaches == []
    with pytest.raises(RuleBrokenError, match="known error is not changed"):
        case.prioritise(Priority.LOW, clock=HOURS, at=at(12, 1, 10))


def test_a_critical_problem_breaches_its_six_days_on_a_weekend_too() -> None:
    """ "6 dagar" are calendar days: the resolution deadline passes on Tuesday 1 December 10:00."""
    case = problem(Priority.CRITICAL)
    case.start_investigation(at=at(11, 25, 12))
    assert case.record_breaches(at(12, 1, 10)) == []
    assert case.record_breaches(at(12, 1, 10, 1)) == [DeadlineKind.RESOLUTION]


def test_a_problem_is_linked_to_one_or_more_incidents() -> None:
    with pytest.raises(RuleBrokenError, match="at least one incident"):
        Problem.register(
            problem_id=uuid.uuid4(),
            incident_ids=[],
            priority=Priority.LOW,
            clock=HOURS,
            at=WEDNESDAY_10,
        )
    case = problem(Priority.LOW)
    first = case.incident_ids[0]
    other = uuid.uuid4()
    case.link_incidents([first, other], at=at(11, 25, 11))
    assert case.incident_ids == [first, other]
    with pytest.raises(RuleBrokenError, match="already linked"):
        case.link_incidents([other], at=at(11, 25, 12))
