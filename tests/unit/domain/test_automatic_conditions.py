"""Reading a compiled query's outcomes as conditions of the service (Bilaga 4 § 3.8, ADR 0010)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from domain.incident.conditions import Condition, QueryObservation
from domain.incident.service_levels import Impact, Priority
from domain.providers import Provider
from domain.query.values import CallOutcome, ErrorSource, OutcomeKind

ANSWERED = CallOutcome(0, OutcomeKind.ANSWERED, 40)
NO_DATA = CallOutcome(0, OutcomeKind.NO_DATA, 40)
CLOSED = CallOutcome(0, OutcomeKind.CLOSED, 0)
TIMEOUT = CallOutcome(0, OutcomeKind.ERROR, 5600, ErrorSource.SSBT, "TIMEOUT")
UNREACHABLE = CallOutcome(0, OutcomeKind.ERROR, 3, ErrorSource.SSBT, "UNREACHABLE")
BT_ERROR = CallOutcome(0, OutcomeKind.ERROR, 80, ErrorSource.BT, "1001")


def observe(**outcomes: CallOutcome | Sequence[CallOutcome]) -> QueryObservation:
    """Every provider answers unless named: ``observe(csn=TIMEOUT)``."""
    table: Mapping[Provider, Sequence[CallOutcome]] = {
        provider: _calls(outcomes.get(provider.name.lower(), ANSWERED)) for provider in Provider
    }
    return QueryObservation.of(table)


def _calls(value: CallOutcome | Sequence[CallOutcome]) -> Sequence[CallOutcome]:
    return [value] if isinstance(value, CallOutcome) else value


def test_a_fully_answered_query_shows_no_condition() -> None:
    observation = observe(csn=NO_DATA, transportstyrelsen=CLOSED)
    assert [c for c in Condition if observation.shows(c)] == []
    assert observation.most_severe is None


def test_a_closed_provider_is_not_a_failure() -> None:
    """Transportstyrelsen outside 08:00-16:30 says CLOSED: not called, not failed."""
    observation = observe(transportstyrelsen=CLOSED, csn=UNREACHABLE)
    assert observation.failed == {Provider.CSN}
    assert Provider.TRANSPORTSTYRELSEN not in observation.called


def test_two_failing_providers_make_the_service_available_with_disturbance() -> None:
    """§ 3.8: "Om 2 eller flera Uppgiftslämnare inte kan leverera svar": an incident, whose
    priority is that of the impact the calls show (§ 3.3.3 row 4: single calls unanswered)."""
    observation = observe(csn=BT_ERROR, skatteverket=UNREACHABLE)
    assert observation.most_severe is Condition.PROVIDERS_UNAVAILABLE
    assert observation.concerned(Condition.PROVIDERS_UNAVAILABLE) == {
        Provider.CSN,
        Provider.SKATTEVERKET,
    }
    assert observation.impact(Condition.PROVIDERS_UNAVAILABLE) is Impact.SINGLE_CALLS_UNANSWERED
    assert observation.priority(Condition.PROVIDERS_UNAVAILABLE) is Priority.LOW


def test_two_failing_providers_one_of_them_timing_out_is_high() -> None:
    """§ 3.3.3 row 2: "Långa svarstider orsakar timeout i vissa anrop"."""
    observation = observe(csn=TIMEOUT, skatteverket=UNREACHABLE)
    assert observation.impact(Condition.PROVIDERS_UNAVAILABLE) is Impact.TIMEOUTS
    assert observation.priority(Condition.PROVIDERS_UNAVAILABLE) is Priority.HIGH


@pytest.mark.parametrize(
    "observation",
    [
        observe(csn=BT_ERROR, skatteverket=UNREACHABLE),
        observe(csn=TIMEOUT, skatteverket=UNREACHABLE),
        observe(csn=TIMEOUT),
        observe(csn=BT_ERROR),
        QueryObservation.of({p: [TIMEOUT] for p in Provider}),
    ],
)
def test_an_automatic_incident_s_priority_is_its_impact_s_as_3_3_3_ranks_it(
    observation: QueryObservation,
) -> None:
    """The table of § 3.3.3: 1 flow broken, 2 time-outs, 3 wrong information, 4 single calls."""
    ranks = {
        Impact.FLOW_BROKEN: Priority.CRITICAL,
        Impact.TIMEOUTS: Priority.HIGH,
        Impact.WRONG_INFORMATION: Priority.MEDIUM,
        Impact.SINGLE_CALLS_UNANSWERED: Priority.LOW,
    }
    assert {impact: impact.priority for impact in Impact} == ranks
    for condition in Condition:
        if observation.shows(condition):
            impact = observation.impact(condition)
            assert observation.priority(condition) is ranks[impact]


def test_a_query_without_one_answer_is_critical() -> None:
    """§ 3.3.3 priority 1: "Avbrott i flödet, inga anrop kan besvaras"."""
    observation = QueryObservation.of({p: [TIMEOUT] for p in Provider})
    assert observation.most_severe is Condition.NO_ANSWER
    assert observation.priority(Condition.NO_ANSWER) is Priority.CRITICAL
    assert observation.impact(Condition.NO_ANSWER) is Impact.FLOW_BROKEN


def test_one_time_out_is_high_and_one_other_failure_is_low() -> None:
    """§ 3.3.3: time-outs in some calls are priority 2; single unanswered calls priority 4."""
    assert observe(csn=TIMEOUT).most_severe is Condition.TIMEOUTS
    assert observe(csn=TIMEOUT).priority(Condition.TIMEOUTS) is Priority.HIGH
    assert observe(csn=BT_ERROR).most_severe is Condition.CALLS_UNANSWERED
    assert observe(csn=BT_ERROR).priority(Condition.CALLS_UNANSWERED) is Priority.LOW


def test_a_provider_failing_for_one_subject_of_two_cannot_answer_the_query() -> None:
    two_subjects = [
        CallOutcome(0, OutcomeKind.ANSWERED, 40),
        CallOutcome(1, OutcomeKind.ERROR, 5600, ErrorSource.SSBT, "TIMEOUT"),
    ]
    observation = observe(csn=two_subjects, skatteverket=BT_ERROR)
    assert observation.shows(Condition.PROVIDERS_UNAVAILABLE)
    assert observation.shows(Condition.TIMEOUTS)
    assert observation.shows(Condition.CALLS_UNANSWERED)


@pytest.mark.parametrize(
    ("condition", "concerned", "later", "clears"),
    [
        (Condition.TIMEOUTS, {Provider.CSN}, observe(), True),
        (Condition.TIMEOUTS, {Provider.CSN}, observe(csn=TIMEOUT), False),
        (Condition.TIMEOUTS, {Provider.CSN}, observe(csn=CLOSED), False),  # CSN not asked
        (
            Condition.PROVIDERS_UNAVAILABLE,
            {Provider.CSN, Provider.SKATTEVERKET},
            observe(csn=BT_ERROR),
            True,
        ),
        (Condition.NO_ANSWER, set(Provider), observe(csn=TIMEOUT), True),
    ],
)
def test_a_condition_clears_at_a_query_that_asked_the_providers_and_did_not_show_it(
    condition: Condition, concerned: set[Provider], later: QueryObservation, clears: bool
) -> None:
    assert later.clears(condition, frozenset(concerned)) is clears


BREAKER_OPEN = CallOutcome(0, OutcomeKind.ERROR, 0, ErrorSource.SSBT, "UNAVAILABLE")
BULKHEAD_FULL = CallOutcome(0, OutcomeKind.ERROR, 0, ErrorSource.SSBT, "TOO_MANY_CALLS")


@pytest.mark.parametrize("refused", [BREAKER_OPEN, BULKHEAD_FULL], ids=["breaker", "bulkhead"])
def test_a_call_the_service_refused_itself_neither_fails_nor_clears(refused: CallOutcome) -> None:
    """ADR 20: the time-outs that tripped the breaker opened the incident; a call refused
    while it is open says nothing new, so it must not clear that incident either."""
    observation = observe(arbetsformedlingen=refused)
    assert Provider.ARBETSFORMEDLINGEN not in observation.called
    assert observation.failed == frozenset()
    everything_refused = QueryObservation.of({provider: [refused] for provider in Provider})
    assert everything_refused.called == frozenset()
    assert not everything_refused.shows(Condition.NO_ANSWER)
