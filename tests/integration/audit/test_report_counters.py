"""The monthly report from counters is the report rebuilt from the events (ADR 27).

A varied month is stored on SQLite and PostgreSQL the way the saga stores it: answers within
and beyond the target and the limit, partial answers (providers failing, closed, not
entitled), refusals (an organisation-mismatch by another caller among them), queries the
process abandoned, queries retried after a cancellation, cancellations before and after the
limit, a quiet hour with queries and no answers (an outage), and the queries on either side
of the month. The counters fold the whole Queries log in order; the report they give must be
the one ``MonthlyReports.build`` makes from the events, figure for figure.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import attrs
import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from adapters.persistence.stored_format import LibraryJsonFormat
from application.audit.report import MonthlyReports
from application.audit.report_counters import (
    MonthCounters,
    MonthlyCounts,
    QueryFacts,
    fold_many,
    percentiles_of_counts,
    report_from_counters,
)
from application.audit.report_model import Month, MonthlyReport, Percentiles
from application.audit.report_projection import (
    TRACKING_NAME,
    CountedMonthlyReports,
    ProjectionMovedError,
    ReportCountsFollower,
    ReportCountsView,
)
from application.audit.report_sources import ReportSources
from application.audit.running_evidence import read_running_evidence
from application.log_reader import notifications
from application.queries import Queries
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import CancelReason, Query, RejectionReason
from domain.query.values import (
    CallOutcome,
    ErrorSource,
    LegalBasis,
    OutcomeKind,
    Purpose,
)
from infrastructure.composition import (
    build_queries,
    build_service,
    open_audit_copy,
    report_counts_view,
    working_hours,
)
from infrastructure.settings import Settings
from tests.fakes import FakeClock, fake_base_services
from tests.unit.audit.test_monthly_report import (
    PERIOD,
    Incidents,
    Outages,
    at,
    received,
    up_all_november,
)

A, B, C = "2120000142", "2120001124", "2120000159"
NOVEMBER = Month(2026, 11)
MS = dt.timedelta(milliseconds=1)
NOW = dt.datetime(2026, 12, 5, 12, tzinfo=STOCKHOLM)


def _outcome(rng: random.Random, index: int) -> CallOutcome:
    roll = rng.random()
    if roll < 0.75:
        return CallOutcome(index, OutcomeKind.ANSWERED, rng.randint(50, 6000))
    if roll < 0.83:
        return CallOutcome(index, OutcomeKind.NO_DATA, rng.randint(50, 3000))
    if roll < 0.9:
        source = rng.choice((ErrorSource.BT, ErrorSource.SSBT))
        return CallOutcome(index, OutcomeKind.ERROR, rng.randint(100, 9000), source, "1001")
    if roll < 0.95:
        return CallOutcome(index, OutcomeKind.CLOSED, 0)
    return CallOutcome(index, OutcomeKind.NOT_ENTITLED, 0)


def _compile_and_deliver(app: Queries, query: Query, when: dt.datetime, rng: random.Random) -> None:
    outcomes = {
        provider: [_outcome(rng, i) for i in range(query.subject_count)] for provider in Provider
    }
    done = when + rng.randint(300, 16_000) * MS
    query.compile(outcomes=outcomes, protected_identity_notices=0, at=done)
    query.deliver(at=done)
    query.erase_case_data(at=done)
    app.save(query)


def _varied_month(app: Queries, seed: int = 17) -> None:
    rng = random.Random(seed)
    edges = [at(31, 23, 58, month=10), at(30, 23, 59, month=11), at(1, 0, 1, month=12)]
    moments = sorted(
        [
            at(rng.randint(2, 27), rng.randint(7, 17), rng.randint(0, 59))
            + rng.randint(0, 59_999) * MS
            for _ in range(260)
        ]
        + edges
    )
    for when in moments:
        organisation = rng.choice((A, A, B, C))
        subjects = rng.choice((1, 1, 1, 2, 3))
        query = received(app, when, subjects, organisation)
        fate = rng.random()
        if fate < 0.62 or when in edges:
            _compile_and_deliver(app, query, when, rng)
        elif fate < 0.7:  # the process died
            query.abandon(reason="PROCESS_ENDED", at=when + dt.timedelta(seconds=30))
            app.save(query)
        elif fate < 0.76:  # the caller left in time
            query.cancel(at=when + rng.randint(100, 5000) * MS)
            app.save(query)
        elif fate < 0.8:  # cancelled only after the limit: unanswered
            query.cancel(reason=CancelReason.DEADLINE_EXCEEDED, at=when + 20_000 * MS)
            app.save(query)
        elif fate < 0.9:  # cancelled, then asked again and answered
            query.cancel(at=when + 1000 * MS)
            query.retry(
                caseworker_pseudonym="0" * 32,
                subject_count=query.subject_count,
                selections=list(query.selections),
                purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
                legal_basis=LegalBasis.SOL_11_KAP_11,
                period=PERIOD,
                deadline=when + dt.timedelta(seconds=20),
                at=when + 2000 * MS,
            )
            app.save(query)
            _compile_and_deliver(app, query, when + 2000 * MS, rng)
        # else: never closed (still open when the report is made)
    for when in (at(12, 13, 5), at(12, 13, 20)):  # an outage: queries, no answers
        received(app, when, 1, rng.choice((A, B)))
    refusals = [
        (A, A, RejectionReason.INVALID_ARGUMENT, ""),
        (B, B, RejectionReason.CASEWORKER_UNKNOWN, ""),
        (A, A, RejectionReason.ORGANISATION_MISMATCH, B),
        (A, A, RejectionReason.ORGANISATION_MISMATCH, C),
        (C, C, RejectionReason.ORGANISATION_MISMATCH, A),  # another caller
        (A, A, RejectionReason.ORGANISATION_MISMATCH, B),
        ("", "", RejectionReason.INVALID_ARGUMENT, ""),
    ]
    for index, (asking, caller, reason, claimed) in enumerate(refusals):
        app.save(
            Query.reject(
                query_id=uuid.uuid4(),
                asking_organisation=asking,
                reason=reason,
                fields=[],
                at=at(3 + 3 * index, 10, index),
                caller=caller,
                claimed_organisation=claimed,
            )
        )
    late = received(app, at(29, 9), 1, A)  # cancelled; asked again in December, answered
    late.cancel(at=at(29, 9) + 1000 * MS)
    app.save(late)
    app.save(  # refused in December: not November's
        Query.reject(
            query_id=uuid.uuid4(),
            asking_organisation=A,
            reason=RejectionReason.ORGANISATION_MISMATCH,
            fields=[],
            at=at(1, 9, month=12),
            caller=A,
            claimed_organisation=B,
        )
    )
    late.retry(
        caseworker_pseudonym="0" * 32,
        subject_count=1,
        selections=list(late.selections),
        purpose=Purpose.FINANCIAL_ASSISTANCE_CASE,
        legal_basis=LegalBasis.SOL_11_KAP_11,
        period=PERIOD,
        deadline=at(5, 9, 1, month=12),
        at=at(5, 9, month=12),
    )
    app.save(late)
    _compile_and_deliver(app, late, at(5, 9, month=12), rng)


def _from_counters(app: Queries, counts: MonthlyCounts, sources: ReportSources) -> MonthlyReport:
    runs = up_all_november()
    running = read_running_evidence(
        runs, NOVEMBER.start, NOVEMBER.end, NOW, stored=LibraryJsonFormat()
    )
    return report_from_counters(
        NOVEMBER,
        counts.counters(NOVEMBER),
        working_hours(),
        sources,
        counts.position,
        running,
        NOW,
    )


def _from_events(app: Queries, sources: ReportSources, month: Month = NOVEMBER) -> MonthlyReport:
    return MonthlyReports(
        app,
        working_hours(),
        sources,
        running_time=up_all_november(),
        clock=FakeClock(NOW),
        stored=LibraryJsonFormat(),
    ).build(month)


def _fold(app: Queries, counts: MonthlyCounts) -> None:
    for notification in notifications(app.recorder, after=counts.position):
        counts.observe(app.mapper.to_domain_event(notification), notification.id)


def test_the_report_from_counters_is_the_report_from_the_events(
    durable_store_settings: Settings,
) -> None:
    settings = durable_store_settings
    app = build_queries(settings, base_services=fake_base_services(), clock=FakeClock(at(1, 0)))
    try:
        _varied_month(app)
        sources = ReportSources(incidents=Incidents(), outages=Outages())
        counts = MonthlyCounts()
        _fold(app, counts)

        expected = _from_events(app, sources)
        actual = _from_counters(app, counts, sources)
    finally:
        app.close()

    # The reference reads to the day after the month; the counters to the log's head.
    assert attrs.evolve(actual, read_through=expected.read_through) == expected
    assert actual.read_through >= expected.read_through
    # Not vacuous: the month has every kind of figure.
    assert expected.delivery.answered > 100
    assert expected.delivery.unanswered > 5
    assert expected.delivery.left_by_caller > 5
    assert {r.reason for r in expected.delivery.rejected} == {
        "CASEWORKER_UNKNOWN",
        "INVALID_ARGUMENT",
        "ORGANISATION_MISMATCH",
    }
    assert [e.caller for e in expected.security_events] == ["212000-0142", "212000-0159"]
    assert any(p.errors and p.closed and p.not_entitled for p in expected.performance.providers)
    assert expected.availability.failing_minutes > 0
    assert not expected.performance.limit_met


def test_counters_folded_in_two_runs_are_the_counters_folded_in_one(
    durable_store_settings: Settings,
) -> None:
    """Resuming from a position counts nothing twice (the persisted store's tracking record
    gives the position; here the in-memory one keeps it)."""
    app = build_queries(
        durable_store_settings, base_services=fake_base_services(), clock=FakeClock(at(1, 0))
    )
    try:
        _varied_month(app, seed=1)
        once = MonthlyCounts()
        _fold(app, once)
        twice = MonthlyCounts()
        head = once.position
        for notification in notifications(app.recorder, upto=head // 2):
            twice.observe(app.mapper.to_domain_event(notification), notification.id)
        _fold(app, twice)
    finally:
        app.close()
    assert twice.position == once.position
    assert twice.counters(NOVEMBER) == once.counters(NOVEMBER)


class _Facts:
    def __init__(self) -> None:
        self.kept: dict[uuid.UUID, QueryFacts] = {}

    def facts(self, query: uuid.UUID) -> QueryFacts | None:
        return self.kept.get(query)


@pytest.mark.parametrize("page", [1, 2, 7, 64, 10_000])
def test_counters_folded_a_page_at_a_time_are_the_counters_folded_event_by_event(
    durable_store_settings: Settings, page: int
) -> None:
    """``fold_many`` (one change per query of a page, what the projection writes) sums to
    what ``fold`` gives event by event, for every month, with the same facts kept, whether a
    query's events fall in one page or are split over several."""
    app = build_queries(
        durable_store_settings, base_services=fake_base_services(), clock=FakeClock(at(1, 0))
    )
    try:
        _varied_month(app, seed=5)
        reference = MonthlyCounts()
        _fold(app, reference)
        events = [app.mapper.to_domain_event(n) for n in notifications(app.recorder, upto=10**9)]
    finally:
        app.close()
    kept = _Facts()
    months: dict[Month, MonthCounters] = {}
    changes = 0
    for start in range(0, len(events), page):
        for change in fold_many(events[start : start + page], kept):
            changes += 1
            if change.query is not None and change.facts is not None:
                kept.kept[change.query] = change.facts
            for month in {*change.deltas, *change.firsts, *change.lasts}:
                months.setdefault(month, MonthCounters()).apply(change, month)
    assert set(months) == {Month(2026, 10), NOVEMBER, Month(2026, 12)}
    for month, counters in months.items():
        expected = reference.counters(month)
        assert {k: v for k, v in counters.counts.items() if v} == {
            k: v for k, v in expected.counts.items() if v
        }
        assert (counters.firsts, counters.lasts) == (expected.firsts, expected.lasts)
    assert kept.kept == reference._facts
    if page >= len(events):  # one change per query changed, and one per refusal
        assert changes < len(events) / 2


@pytest.mark.parametrize(
    "values",
    [[], [5], [1, 2, 3, 4], [7, 7, 7, 1], list(range(1, 101)), [3] * 9 + [90, 91, 1000]],
)
def test_percentiles_from_counts_are_the_nearest_rank_percentiles(values: list[int]) -> None:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    assert percentiles_of_counts(counts) == Percentiles.of(values)


def _view(app: Queries) -> ReportCountsView:
    view = report_counts_view(app)
    assert view is not None
    return view


def _counted(app: Queries, view: ReportCountsView, sources: ReportSources) -> CountedMonthlyReports:
    return CountedMonthlyReports(
        app,
        working_hours(),
        sources,
        view=view,
        running_time=up_all_november(),
        clock=FakeClock(NOW),
        stored=LibraryJsonFormat(),
    )


def test_the_persisted_projection_resumes_from_its_tracking_record_and_reports_as_the_events(
    durable_store_settings: Settings,
) -> None:
    """Counted a few pages, stopped, restarted on a new view of the same store, caught up:
    the report from the persisted counters is the report from the events, and nothing was
    counted twice. Before it reaches the month, the report is rebuilt from the events."""
    settings = durable_store_settings
    app = build_queries(settings, base_services=fake_base_services(), clock=FakeClock(at(1, 0)))
    try:
        _varied_month(app, seed=5)
        sources = ReportSources(incidents=Incidents(), outages=Outages())
        expected = _from_events(app, sources)

        first = _view(app)
        behind = _counted(app, first, sources)
        december = Month(2026, 12)  # its window starts after November's events
        assert behind.build(december) == _from_events(app, sources, december)
        assert behind.last_source == "events"  # not counted that far: from the events
        from_nothing = behind.build(NOVEMBER)  # from position 0: all of it is the tail
        assert attrs.evolve(from_nothing, read_through=expected.read_through) == expected
        assert behind.last_source == "counters"

        follower = ReportCountsFollower(app, first, page=40)
        assert follower.catch_up(max_pages=3) == 120
        midway = _counted(app, first, sources).build(NOVEMBER)  # counters + the tail
        assert attrs.evolve(midway, read_through=expected.read_through) == expected

        restarted = _view(app)  # a new process on the same store
        assert restarted.position() == first.position() > 0
        ReportCountsFollower(app, restarted, page=40).catch_up()
        assert ReportCountsFollower(app, restarted).catch_up() == 0
        counted = _counted(app, restarted, sources)
        actual = counted.build(NOVEMBER)
        assert counted.last_source == "counters"
        assert attrs.evolve(actual, read_through=expected.read_through) == expected

        in_memory = MonthlyCounts()
        _fold(app, in_memory)
        _, persisted, _ = restarted.snapshot(NOVEMBER, lambda _position: set())
        assert {k: v for k, v in persisted.counts.items() if v} == {
            k: v for k, v in in_memory.counters(NOVEMBER).counts.items() if v
        }
        every_query = {
            app.mapper.to_domain_event(n).originator_id for n in notifications(app.recorder)
        }
        kept = restarted.facts_of(every_query)  # November's window has passed: dropped
        assert kept
        assert {facts.month for facts in kept.values()} == {Month(2026, 12)}
        with pytest.raises(ProjectionMovedError):  # a second writer from an old position
            restarted.record([], 0, Tracking(TRACKING_NAME, restarted.position() + 1))
    finally:
        app.close()


def test_the_service_keeps_the_counters_and_its_report_reads_them(
    durable_store_settings: Settings,
) -> None:
    """The composition root wires the projection into the service: its follower (the
    background role's work) counts the log, and the audit service's report reads them."""
    service = build_service(durable_store_settings)
    try:
        assert service.report_counts is not None
        _varied_month(service.queries, seed=9)
        assert service.report_counts.catch_up() > 0
        reports = service.audit.trail._reports
        assert isinstance(reports, CountedMonthlyReports)
        report = service.audit.trail.report(NOVEMBER)
        assert reports.last_source == "counters"
        assert report.usage.queries == service_report_queries(service.queries)
    finally:
        service.close()


def service_report_queries(app: Queries) -> int:
    """Queries received in November, counted straight from the log."""
    count = 0
    for n in notifications(app.recorder, topics=[get_topic(Query.Received)]):
        event = app.mapper.to_domain_event(n)
        assert isinstance(event, Query.Received)
        count += NOVEMBER.start <= event.timestamp < NOVEMBER.end
    return count


def test_the_auditors_read_only_copy_reads_the_counters_the_service_kept(
    durable_store_settings: Settings,
) -> None:
    """``ssbtek report monthly`` opens the stores read-only: it reads the counters the
    service's projection kept, and gives the report the events give."""
    settings = durable_store_settings
    service = build_service(settings)
    try:
        _varied_month(service.queries, seed=3)
        assert service.report_counts is not None
        service.report_counts.catch_up()
    finally:
        service.close()
    copy = open_audit_copy(settings, clock=FakeClock(NOW), applications=("queries",))
    try:
        reports = copy.trail._reports
        assert isinstance(reports, CountedMonthlyReports)
        counted = copy.trail.report(NOVEMBER)
        assert reports.last_source == "counters"
        from_events = MonthlyReports.build(reports, NOVEMBER)  # the reference, same copy
    finally:
        copy.close()
    assert attrs.evolve(counted, read_through=from_events.read_through) == from_events
    assert counted.delivery.received > 100
