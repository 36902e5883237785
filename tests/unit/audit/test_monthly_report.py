"""The monthly report from a known mix of queries whose every time is set by hand.

November 2026 has 21 working days (no Swedish public holiday on a weekday): 21 x 540 =
11,340 opening minutes. The queries below are stored as the saga stores them (the same
aggregate, the same events), with the times chosen so every figure can be checked by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence

import attrs
import pytest

from adapters.reporting.html_report import render_html
from adapters.reporting.report_json import NO_DATA_SOURCE, report_to_dict
from application.audit.report import MonthlyReports
from application.audit.report_model import Month, MonthlyReport
from application.audit.report_sources import PriorityFigures, RecordedOutage, ReportSources
from application.queries import Queries
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query, RejectionReason
from domain.query.values import (
    CallOutcome,
    ErrorSource,
    LegalBasis,
    OutcomeKind,
    Period,
    ProviderSelection,
    Purpose,
)
from infrastructure.audit_bootstrap import working_hours
from infrastructure.bootstrap import build_queries
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock, fake_base_services
from tests.legacy_queries import answer_as_before_v3

A = "2120000142"
B = "2120001124"
NOVEMBER = Month(2026, 11)
PERIOD = Period(dt.date(2026, 5, 1), dt.date(2026, 10, 31))
MS = dt.timedelta(milliseconds=1)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=STOCKHOLM)


def received(
    queries: Queries, when: dt.datetime, subjects: int = 1, organisation: str = A
) -> Query:
    query = Query.receive(
        query_id=uuid.uuid4(),
        asking_organisation=organisation,
        caseworker_pseudonym="0" * 32,
        subject_count=subjects,
        selections=[ProviderSelection(p, PERIOD) for p in Provider],
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=PERIOD,
        deadline=when + dt.timedelta(seconds=5.6),
        at=when,
    )
    queries.save(query)
    return query


def answered(
    queries: Queries,
    when: dt.datetime,
    elapsed_ms: int,
    *,
    subjects: int = 1,
    latency_ms: int = 1000,
    special: dict[Provider, CallOutcome] | None = None,
) -> None:
    """A query answered ``elapsed_ms`` after it was received; every call took ``latency_ms``
    unless ``special`` says otherwise (for subject 0)."""
    query = received(queries, when, subjects)
    done = when + elapsed_ms * MS
    outcomes = {}
    for provider in Provider:
        calls = [CallOutcome(i, OutcomeKind.ANSWERED, latency_ms) for i in range(subjects)]
        if special and provider in special:
            calls[0] = special[provider]
        outcomes[provider] = calls
    query.compile(outcomes=outcomes, protected_identity_notices=0, at=done)
    query.deliver(at=done)
    query.erase_case_data(at=done)
    queries.save(query)


class Outages:
    def outages(self, start: dt.datetime, end: dt.datetime) -> Sequence[RecordedOutage]:
        return [
            RecordedOutage(at(12, 13), at(12, 13, 30), planned=False, cause="FLOW_BROKEN"),
            RecordedOutage(at(19, 8), at(19, 8, 10), planned=True, cause="PLANNED_CHANGE"),
        ]


class Incidents:
    def incidents_by_priority(
        self, start: dt.datetime, end: dt.datetime
    ) -> Sequence[PriorityFigures]:
        return [
            PriorityFigures("CRITICAL", opened=1, resolved=1, resolved_in_time=1, open_at_end=0)
        ]


@pytest.fixture
def queries() -> Queries:
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY)
    app = build_queries(settings, base_services=fake_base_services(), clock=FakeClock(at(1, 0)))
    answered(app, at(31, 23, 59, month=10), 1000)  # October: not in the report
    answered(app, at(2, 10), 3000)  # Q1: within 7 s
    answered(app, at(2, 10, 5), 8000, subjects=2, latency_ms=2000)  # Q2: within 8.5 s
    answered(  # Q3: within 12 s only; Transportstyrelsen closed (never called)
        app,
        at(3, 11),
        7500,
        latency_ms=1500,
        special={Provider.TRANSPORTSTYRELSEN: CallOutcome(0, OutcomeKind.CLOSED, 0)},
    )
    answered(app, at(4, 14), 13_000, latency_ms=4000)  # Q4: later than 12 s
    answered(  # Q5: two providers failed: available with disturbance
        app,
        at(5, 9),
        2000,
        latency_ms=800,
        special={
            Provider.SKATTEVERKET: CallOutcome(0, OutcomeKind.ERROR, 500, ErrorSource.BT, "1001"),
            Provider.CSN: CallOutcome(0, OutcomeKind.ERROR, 5600, ErrorSource.SSBT, "TIMEOUT"),
        },
    )
    abandoned = received(app, at(6, 9))  # Q6: the process died: no answer at all
    abandoned.abandon(reason="PROCESS_ENDED", at=at(6, 9, 5))
    app.save(abandoned)
    left = received(app, at(9, 10))  # Q7: the caller left after 2 s
    left.cancel(at=at(9, 10) + 2000 * MS)
    app.save(left)
    app.save(  # a refused request: an answer, with a refusal
        Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=B,
            reason=RejectionReason.INVALID_ARGUMENT,
            fields=["subjects[0]"],
            at=at(10, 10),
        )
    )
    answered(app, at(1, 0, month=12) + 30_000 * MS, 1000)  # December: not in the report
    return app


def build(queries: Queries, sources: ReportSources | None = None) -> MonthlyReport:
    return MonthlyReports(queries, working_hours(), sources).build(NOVEMBER)


def test_performance_is_the_share_of_answers_within_7_and_12_seconds_plus_1_5_per_subject(
    queries: Queries,
) -> None:
    performance = build(queries).performance
    assert performance.answered_queries == 5
    assert (performance.within_target, performance.within_limit) == (3, 4)  # Q1 Q2 Q5; + Q3
    assert performance.share_within_target == pytest.approx(60.0)
    assert performance.share_within_limit == pytest.approx(80.0)
    assert (performance.target_met, performance.limit_met) == (False, False)
    # query times 2000 3000 7500 8000 13000, nearest rank
    times = performance.query_time_ms
    assert (times.count, times.p50, times.p90, times.p99, times.max) == (
        5,
        7500,
        13000,
        13000,
        13000,
    )
    counts = {b.lower_ms: b.count for b in performance.normalised_histogram if b.count}
    assert counts == {2000: 1, 3000: 1, 6500: 1, 7500: 1, 13000: 1}  # Q2: 8.0 s - 1.5 s


def test_provider_latencies_count_the_calls_made_and_the_errors_by_source(queries: Queries) -> None:
    providers = {p.provider: p for p in build(queries).performance.providers}
    skv = providers["SKATTEVERKET"]
    assert (skv.queries, skv.calls, skv.errors, skv.bt_errors, skv.ssbt_errors) == (5, 6, 1, 1, 0)
    # 500 1000 1500 2000 2000 4000
    assert (skv.latency_ms.p50, skv.latency_ms.p90, skv.latency_ms.max) == (1500, 4000, 4000)
    transport = providers["TRANSPORTSTYRELSEN"]
    assert (transport.calls, transport.closed, transport.latency_ms.count) == (5, 1, 5)
    assert (transport.latency_ms.p50, transport.latency_ms.max) == (2000, 4000)  # 800..4000
    assert providers["CSN"].ssbt_errors == 1


def test_availability_counts_unanswered_minutes_and_recorded_outages_within_opening_hours(
    queries: Queries,
) -> None:
    availability = build(queries, ReportSources(outages=Outages())).availability
    assert availability.opening_minutes == 21 * 540
    # Q6's minute (1), the recorded outage (30), the planned change (10)
    assert availability.unavailable_minutes == 41
    assert availability.planned_unavailable_minutes == 10
    assert availability.available_minutes == 11_299
    assert availability.percentage == pytest.approx(100 * 11_299 / 11_340)
    assert availability.target_met is True
    assert availability.disturbed_minutes == 1  # Q5's minute
    outages = [(o.start, o.minutes, o.planned) for o in availability.outages]
    assert outages == [(at(6, 9), 1, False), (at(12, 13), 30, False), (at(19, 8), 10, True)]
    assert availability.unplanned_outages == 2
    assert availability.reliability_met is False
    days = {d.day.day: (d.unavailable_minutes, d.disturbed_minutes) for d in availability.days}
    assert (days[5], days[6], days[12], days[19], days[20]) == (
        (0, 1),
        (1, 0),
        (30, 0),
        (10, 0),
        (0, 0),
    )
    assert len(days) == 21
    assert 1 not in days
    assert 7 not in days


def test_without_an_outage_source_only_the_trail_counts_and_the_report_says_so(
    queries: Queries,
) -> None:
    report = build(queries)
    assert report.availability.unavailable_minutes == 1
    assert report.availability.recorded_outages_source is False
    document = report_to_dict(report)
    assert document["availability"]["recorded_outages"] == NO_DATA_SOURCE


def test_delivery_precision_leaves_out_queries_their_callers_left_in_time(queries: Queries) -> None:
    delivery = build(queries).delivery
    assert (delivery.received, delivery.answered, delivery.unanswered) == (7, 5, 1)
    assert delivery.left_by_caller == 1
    assert delivery.share == pytest.approx(100 * 5 / 6)
    assert delivery.target_met is False
    assert [(r.reason, r.count) for r in delivery.rejected] == [("INVALID_ARGUMENT", 1)]


def test_usage_per_municipality(queries: Queries) -> None:
    usage = build(queries).usage
    assert (usage.queries, usage.subjects, usage.rejected, usage.peak_queries_per_minute) == (
        7,
        8,
        1,
        1,
    )
    assert [(o.organisation, o.queries, o.subjects, o.rejected) for o in usage.organisations] == [
        (A, 7, 8, 0),
        (B, 0, 0, 1),
    ]


def test_service_management_sections_come_from_their_sources_or_say_no_data_source(
    queries: Queries,
) -> None:
    document = report_to_dict(build(queries, ReportSources(incidents=Incidents())))
    assert document["incidents"] == [
        {
            "priority": "CRITICAL",
            "opened": 1,
            "resolved": 1,
            "resolved_in_time": 1,
            "open_at_end": 0,
        }
    ]
    assert document["problems"] == NO_DATA_SOURCE
    assert document["planned_changes"] == NO_DATA_SOURCE
    json.dumps(document)  # plain JSON all the way down


def test_the_report_is_rebuilt_the_same_from_the_same_events(queries: Queries) -> None:
    sources = ReportSources(outages=Outages(), incidents=Incidents())
    first, second = build(queries, sources), build(queries, sources)
    assert first == second
    assert render_html(first) == render_html(second)
    assert attrs.evolve(first, read_through=0) == attrs.evolve(second, read_through=0)


def test_the_html_page_is_self_contained_with_both_charts(queries: Queries) -> None:
    page = render_html(build(queries, ReportSources(outages=Outages())))
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2
    assert "Latency distribution" in page
    assert "Daily availability" in page
    assert "7 s: 90 % of answers" in page
    assert "12 s: every answer" in page
    assert "60.00 %" in page
    assert "80.00 %" in page
    assert "Problems by priority" in page
    assert NO_DATA_SOURCE in page
    for loads_something in ("<script", "<link", "<img", "@import", 'src="', 'href="http'):
        assert loads_something not in page


def test_a_query_stored_before_compiled_v3_counts_the_same(queries: Queries) -> None:
    """Up to Compiled v2 each provider's outcomes were a ProviderAnswered event of their
    own: the report reads both forms."""
    before = {p.provider: p for p in build(queries).performance.providers}
    legacy = received(queries, at(11, 10))
    done = at(11, 10) + 1000 * MS
    failed = [CallOutcome(0, OutcomeKind.ERROR, 700, ErrorSource.BT, "1001")]
    answer_as_before_v3(legacy, dict.fromkeys(Provider, failed), done)
    queries.save(legacy)

    report = build(queries)
    assert report.performance.answered_queries == 6
    after = {p.provider: p for p in report.performance.providers}
    for provider in Provider:
        assert after[provider.value].calls == before[provider.value].calls + 1
        assert after[provider.value].bt_errors == before[provider.value].bt_errors + 1
