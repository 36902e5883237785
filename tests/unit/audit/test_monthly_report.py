"""The monthly report from a known mix of queries whose every time is set by hand.

November 2026 has 21 working days (no Swedish public holiday on a weekday): 21 x 540 =
11,340 opening minutes. The queries below are stored as the saga stores them (the same
aggregate, the same events), with the times chosen so every figure can be checked by hand.
The service's records of its running time show it up all month (``up_all_november``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence

import attrs
import pytest

from adapters.persistence.stored_format import LibraryJsonFormat
from adapters.reporting.html_report import render_html
from adapters.reporting.report_json import NO_DATA_SOURCE, report_to_dict
from application.audit.report import MonthlyReports
from application.audit.report_model import Month, MonthlyReport
from application.audit.report_sources import PriorityFigures, RecordedOutage, ReportSources
from application.queries import Queries
from application.running_time import ServiceRuns
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
from infrastructure.composition import build_queries, working_hours
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
    return november_queries()


def november_queries() -> Queries:
    """The month's known mix of queries, in a Queries application of its own (in memory)."""
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


def record_run(
    runs: ServiceRuns,
    clock: FakeClock,
    start: dt.datetime,
    end: dt.datetime,
    *,
    every: dt.timedelta = dt.timedelta(hours=1),
    stop: bool = True,
    worker: int = 0,
) -> None:
    """One process running from ``start`` to ``end``, recording that it is still up ``every``
    (and that it stopped, unless ``stop`` is false: it then just falls silent)."""
    clock.advance(start - clock.now())
    run_id = runs.start(node="node-test", worker=worker, heartbeat_s=int(every.total_seconds()))
    while clock.now() + every <= end:
        clock.advance(every)
        runs.still_up(run_id)
    clock.advance(end - clock.now())
    if stop:
        runs.stop(run_id)


def new_runs(clock: FakeClock) -> ServiceRuns:
    return ServiceRuns(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)


def up_all_november() -> ServiceRuns:
    """Up from the evening of 31 October to 1 December, recording it every hour."""
    clock = FakeClock(at(31, 20, month=10))
    runs = new_runs(clock)
    record_run(runs, clock, at(31, 20, month=10), at(1, 12, month=12))
    return runs


AFTER_NOVEMBER = at(5, 12, month=12)


def build(
    queries: Queries,
    sources: ReportSources | None = None,
    runs: ServiceRuns | None = None,
    *,
    now: dt.datetime = AFTER_NOVEMBER,
    month: Month = NOVEMBER,
) -> MonthlyReport:
    return MonthlyReports(
        queries,
        working_hours(),
        sources,
        running_time=runs or up_all_november(),
        clock=FakeClock(now),
        stored=LibraryJsonFormat(),
    ).build(month)


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
    # bins [2, 3) [3, 5) [5, 7) [7, 10) [12, 15) s; Q2 is 8.0 s - 1.5 s = 6.5 s
    assert counts == {2000: 1, 3000: 1, 5000: 1, 7000: 1, 12000: 1}


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


class Names:
    def name_of(self, organisation: str) -> str | None:
        return {A: "Demo kommun"}.get(organisation)


def test_usage_per_municipality(queries: Queries) -> None:
    """Organisation numbers as they are written, named where the parties know them."""
    usage = build(queries, ReportSources(organisations=Names())).usage
    assert (usage.queries, usage.subjects, usage.rejected, usage.peak_queries_per_minute) == (
        7,
        8,
        1,
        1,
    )
    assert [
        (o.organisation, o.name, o.queries, o.subjects, o.rejected) for o in usage.organisations
    ] == [
        ("212000-0142", "Demo kommun", 7, 8, 0),
        ("212000-1124", None, 0, 0, 1),
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


def chart_images(page: str) -> list[str]:
    """The SVG text of each chart image (``data:`` URIs) on the page."""
    found = re.findall(
        r'<img alt="[^"]*" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)">', page
    )
    return [base64.b64decode(image).decode() for image in found]


def test_the_html_page_is_self_contained_with_both_charts(queries: Queries) -> None:
    page = render_html(build(queries, ReportSources(outages=Outages())))
    assert page.startswith("<!DOCTYPE html>")
    latency, daily = chart_images(page)
    assert "Latency distribution" in latency
    assert "log scale" in latency
    assert "7 s: 90 % of answers" in latency
    assert "12 s: every answer" in latency
    assert "by what the evidence shows" in daily
    assert "60.00 %" in page
    assert "80.00 %" in page
    assert "Problems by priority" in page
    assert NO_DATA_SOURCE in page
    assert "Evidence period: 2026-11-01 00:00 to 2026-12-01 00:00" in page
    assert "Queries log read through position" in page
    for loads_something in ("<script", "<link", "@import", 'href="http', "url("):
        assert loads_something not in page
    assert page.count('src="') == page.count('src="data:image/svg+xml;base64,') == 2


def test_a_month_without_answers_says_no_data_instead_of_drawing_empty_axes(
    queries: Queries,
) -> None:
    report = build(queries, month=Month(2026, 9), now=AFTER_NOVEMBER)
    page = render_html(report)
    assert chart_images(page) == []
    assert "Latency distribution: no data" in page
    assert "Availability per day: no data" in page


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


# --- availability from the service's records of its running time -----------------------------


def test_a_month_before_the_service_existed_has_no_availability_figure(queries: Queries) -> None:
    """Started on 3 December: November has no evidence, so no figure and no verdict."""
    clock = FakeClock(at(3, 9, month=12))
    runs = new_runs(clock)
    record_run(runs, clock, at(3, 9, month=12), at(3, 15, month=12), every=dt.timedelta(minutes=1))
    report = build(queries, runs=runs, now=at(3, 15, month=12))
    availability = report.availability
    assert availability.evidence is None
    assert (availability.measured_minutes, availability.no_evidence_minutes) == (0, 21 * 540)
    assert (availability.percentage, availability.target_met) == (None, None)
    assert availability.reliability_met is None
    assert availability.available_minutes == 0
    assert all(day.percentage is None for day in availability.days)
    assert report_to_dict(report)["availability"]["percentage"] is None
    page = render_html(report)
    assert "No evidence of the service's running time covers any of this month" in page
    assert "100.00 %" not in page


def test_the_rest_of_the_current_month_has_not_happened_and_is_not_counted(
    queries: Queries,
) -> None:
    """Made at 12:00 on Thursday 3 December of a service started at 09:00 that day: three hours
    measured; 1-2 December have no evidence; the rest of the month has not happened."""
    clock = FakeClock(at(3, 9, month=12))
    runs = new_runs(clock)
    record_run(
        runs,
        clock,
        at(3, 9, month=12),
        at(3, 12, month=12),
        every=dt.timedelta(minutes=1),
        stop=False,
    )
    report = build(queries, runs=runs, now=at(3, 12, month=12), month=Month(2026, 12))
    availability = report.availability
    assert availability.evidence is not None
    assert availability.evidence.start == at(3, 9, month=12)
    assert availability.evidence.end == at(3, 12, month=12)
    assert availability.measured_minutes == availability.available_minutes == 180
    assert availability.percentage == pytest.approx(100.0)
    assert availability.no_evidence_minutes == 2 * 540 + 60
    # December 2026: 21 working days (24, 25, 31 December are holidays, 26-27 a weekend)
    assert availability.not_yet_minutes == availability.opening_minutes - 180 - 2 * 540 - 60
    days = {day.day.day: day for day in availability.days}
    assert days[3].percentage == pytest.approx(100.0)
    assert days[4].percentage is None
    assert days[4].not_yet_minutes == 540
    assert days[1].no_evidence_minutes == 540
    assert [run.ended for run in availability.runs] == ["still running"]


def test_ten_minutes_stopped_in_opening_hours_are_reported_as_not_running(
    queries: Queries,
) -> None:
    """Stopped at 10:00 on Monday 16 November, started again at 10:10 (the clock is the
    test's): ten minutes not running, one unplanned outage, evidence "stopped"."""
    clock = FakeClock(at(16, 8))
    runs = new_runs(clock)
    minute = dt.timedelta(minutes=1)
    record_run(runs, clock, at(16, 8), at(16, 10), every=minute)
    record_run(runs, clock, at(16, 10, 10), at(16, 12), every=minute, stop=False)
    availability = build(queries, runs=runs, now=at(16, 12)).availability  # no query that day
    assert availability.measured_minutes == 240
    assert availability.not_running_minutes == 10
    assert availability.unavailable_minutes == 10
    assert availability.available_minutes == 230
    assert availability.percentage == pytest.approx(100 * 230 / 240)
    assert [(o.start, o.end, o.minutes, o.planned) for o in availability.outages] == [
        (at(16, 10), at(16, 10, 10), 10, False)
    ]
    assert availability.outages[0].evidence == ("not running: stopped",)
    assert availability.unplanned_outages == 1


def test_a_process_that_falls_silent_is_not_running_and_another_worker_keeps_it_up(
    queries: Queries,
) -> None:
    """Worker 0 dies at 09:00 without a word; worker 1 runs 08:00-09:30: the service was up
    until 09:30 and then had no sign of life."""
    clock = FakeClock(at(2, 8))
    runs = new_runs(clock)
    minute = dt.timedelta(minutes=1)
    record_run(runs, clock, at(2, 8), at(2, 9), every=minute, stop=False)
    record_run(runs, clock, at(2, 9, 30), at(2, 9, 30), every=minute, worker=1)
    clock.advance(at(2, 8) - clock.now())
    worker_1 = runs.start(node="node-test", worker=1, heartbeat_s=60)
    while clock.now() < at(2, 9, 30):
        clock.advance(minute)
        runs.still_up(worker_1)
    runs.stop(worker_1)
    availability = build(queries, runs=runs, now=at(2, 10)).availability
    assert availability.measured_minutes == 120
    assert availability.available_minutes == 90
    assert availability.not_running_minutes == 30
    assert availability.outages[0].start == at(2, 9, 30)
    assert availability.outages[0].evidence == ("not running: stopped",)
    ended = sorted((run.worker, run.ended) for run in availability.runs)
    assert (0, "no sign of life") in ended
