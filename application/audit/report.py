"""The monthly service-level report: a projection over the Queries log, rebuilt from scratch.

``MonthlyReports.build(month)`` reads the Queries application's events around the month
(from a day before it starts to a day after it ends, found by bisection on the event
times), folds them into one fact per query received in the month, reads the service's
records of its running time (``ServiceRuns``) over the same window, and computes the
figures of 004 Bilaga 4 § 3.7-3.9 and § 4. The same stores at the same time always give
the same report; a month that has ended gives the same figures whenever it is made.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from application.audit.availability import MinuteTraffic, availability, minute_of
from application.audit.ports import EventLog
from application.audit.report_model import (
    DELIVERY_TARGET_PERCENT,
    PERFORMANCE_TARGET_PERCENT,
    DeliveryPrecision,
    HistogramBin,
    ImpersonationAttempts,
    Month,
    MonthlyReport,
    NotAskedCount,
    OrganisationUsage,
    Percentiles,
    Performance,
    ProviderFigures,
    RejectionCount,
    Usage,
)
from application.audit.report_sources import OrganisationNames, ReportSources
from application.audit.running_evidence import RunningEvidence, read_running_evidence
from application.log_reader import MARGIN as STORED_MARGIN
from application.log_reader import StoredFormat, first_position_at_or_after, notifications
from application.ports import Clock
from domain.business_hours import BusinessHours
from domain.providers import Provider
from domain.query.aggregate import Query
from domain.query.values import NOT_CALLED, CallOutcome, ErrorSource, OutcomeKind
from domain.service_level import answer_limit, answer_target

MARGIN: Final = STORED_MARGIN
"""Read this far before and after the month: an event is saved seconds after its time."""
HISTOGRAM_EDGES_MS: Final = (
    *(0, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000),
    *(7000, 10_000, 12_000, 15_000, 20_000, 30_000),
)
"""The latency bins: roughly even on a log scale, with edges at the 7 s and 12 s lines so the
bars on either side of a line are the answers within it and beyond it."""
_READ: Final = frozenset(
    get_topic(kind)
    for kind in (
        Query.Received,
        Query.Rejected,
        Query.ProviderAnswered,
        Query.Compiled,
        Query.Delivered,
        Query.Cancelled,
        Query.Abandoned,
    )
)

FOLDED_TOPICS: Final = tuple(sorted(_READ))


@attrs.define
class _QueryFacts:
    received_at: dt.datetime
    organisation: str
    subject_count: int
    outcomes: dict[Provider, list[CallOutcome]] = attrs.field(factory=dict)
    elapsed_ms: int | None = None
    cancelled_at: dt.datetime | None = None

    @property
    def answered(self) -> bool:
        return self.elapsed_ms is not None

    @property
    def left_by_caller(self) -> bool:
        """Cancelled by its caller before the service level's limit: the caller's choice,
        neither an answer nor a missing one."""
        if self.cancelled_at is None or self.answered:
            return False
        return self.cancelled_at - self.received_at <= answer_limit(self.subject_count)

    @property
    def unanswered(self) -> bool:
        """No answer left: abandoned by a dead process, cancelled only after the limit, or
        still open."""
        return not self.answered and not self.left_by_caller

    @property
    def failed_providers(self) -> int:
        return sum(
            any(o.kind is OutcomeKind.ERROR for o in outcomes)
            for outcomes in self.outcomes.values()
        )


@attrs.frozen
class _Rejection:
    organisation: str
    """Who made the call (version 3 of ``Rejected``; ADR 24 says how older ones read)."""
    reason: str
    at: dt.datetime
    claimed: str = ""
    """The other organisation the request named, when it named one."""


class MonthlyReportProjection:
    """Folds Query events into one fact per query received in the month."""

    def __init__(self, month: Month) -> None:
        self.month = month
        self._queries: dict[UUID, _QueryFacts] = {}
        self._rejections: list[_Rejection] = []

    def observe(self, event: object) -> None:
        if isinstance(event, Query.Received):
            if self.month.start <= event.timestamp < self.month.end:
                self._queries[event.originator_id] = _QueryFacts(
                    event.timestamp, event.asking_organisation, event.subject_count
                )
        elif isinstance(event, Query.Rejected):
            if self.month.start <= event.timestamp < self.month.end:
                self._rejections.append(
                    _Rejection(
                        event.asking_organisation,
                        event.reason.value,
                        event.timestamp,
                        event.claimed_organisation,
                    )
                )
        elif isinstance(event, Query.Compiled):
            if (facts := self._queries.get(event.originator_id)) is not None:
                for calls in event.calls:
                    facts.outcomes[calls.provider] = list(calls.outcomes)
        elif isinstance(event, Query.ProviderAnswered):  # streams from before Compiled v3
            if (facts := self._queries.get(event.originator_id)) is not None:
                facts.outcomes[event.provider] = list(event.outcomes)
        elif isinstance(event, Query.Delivered) and (
            facts := self._queries.get(event.originator_id)
        ):
            facts.elapsed_ms = event.elapsed_ms
        elif isinstance(event, Query.Cancelled) and (
            facts := self._queries.get(event.originator_id)
        ):
            facts.cancelled_at = event.timestamp

    def report(
        self,
        hours: BusinessHours,
        sources: ReportSources,
        read_through: int,
        running: RunningEvidence | None,
        now: dt.datetime,
    ) -> MonthlyReport:
        queries = sorted(self._queries.values(), key=lambda q: q.received_at)
        start, end = self.month.start, self.month.end
        return MonthlyReport(
            month=self.month,
            performance=_performance(queries),
            availability=availability(
                self.month,
                hours,
                _traffic(queries, self._rejections, hours),
                sources.outages.outages(start, end) if sources.outages else None,
                running,
                now,
            ),
            delivery=_delivery(queries, self._rejections),
            usage=_usage(queries, self._rejections, hours, sources.organisations),
            incidents=tuple(sources.incidents.incidents_by_priority(start, end))
            if sources.incidents
            else None,
            problems=tuple(sources.problems.problems_by_priority(start, end))
            if sources.problems
            else None,
            planned_changes=tuple(sources.planned_changes.planned_changes(start, end))
            if sources.planned_changes
            else None,
            read_through=read_through,
            running_time_read_through=running.read_through if running else None,
            made_at=now,
            security_events=_security_events(self._rejections),
        )


class MonthlyReports:
    """Builds the report of a month from the Queries log, the service's records of its
    running time (``None``: not kept, so no availability figure) and the injected sources."""

    def __init__(
        self,
        queries: EventLog,
        hours: BusinessHours,
        sources: ReportSources | None = None,
        *,
        running_time: EventLog | None,
        clock: Clock,
        stored: StoredFormat,
    ) -> None:
        self._queries = queries
        self._stored = stored
        self._hours = hours
        self._sources = sources or ReportSources()
        self._running_time = running_time
        self._clock = clock

    def build(self, month: Month) -> MonthlyReport:
        recorder, mapper = self._queries.recorder, self._queries.mapper
        first = first_position_at_or_after(recorder, month.start - MARGIN, self._stored)
        projection = MonthlyReportProjection(month)
        read_through = first - 1
        stop_after = month.end + MARGIN
        # Only the topics the report folds are read (filtered by the store), each decoded
        # once; the first one past the window ends the read: nothing before it is missed.
        for notification in notifications(recorder, after=first - 1, topics=FOLDED_TOPICS):
            event = mapper.to_domain_event(notification)
            stamp = getattr(event, "timestamp", None)
            if isinstance(stamp, dt.datetime) and stamp >= stop_after:
                read_through = notification.id - 1
                break
            projection.observe(event)
            read_through = notification.id
        now = self._clock.now()
        running = self.running_evidence(month, now)
        return projection.report(self._hours, self._sources, read_through, running, now)

    def running_evidence(self, month: Month, now: dt.datetime) -> RunningEvidence | None:
        """What the service-run records say of the month (ADR 12), if they are kept."""
        if self._running_time is None:
            return None
        return read_running_evidence(
            self._running_time, month.start, month.end, now, stored=self._stored
        )


def share_of(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _performance(queries: Sequence[_QueryFacts]) -> Performance:
    answered = [q for q in queries if q.elapsed_ms is not None]
    times = [q.elapsed_ms for q in answered if q.elapsed_ms is not None]
    within_target = sum(
        q.elapsed_ms <= answer_target(q.subject_count) / dt.timedelta(milliseconds=1)
        for q in answered
        if q.elapsed_ms is not None
    )
    within_limit = sum(
        q.elapsed_ms <= answer_limit(q.subject_count) / dt.timedelta(milliseconds=1)
        for q in answered
        if q.elapsed_ms is not None
    )
    target_share = share_of(within_target, len(answered))
    limit_share = share_of(within_limit, len(answered))
    return Performance(
        answered_queries=len(answered),
        within_target=within_target,
        within_limit=within_limit,
        share_within_target=target_share,
        share_within_limit=limit_share,
        target_met=None if target_share is None else target_share >= PERFORMANCE_TARGET_PERCENT,
        limit_met=None if limit_share is None else within_limit == len(answered),
        query_time_ms=Percentiles.of(times),
        normalised_histogram=_histogram(
            q.elapsed_ms - 1500 * (q.subject_count - 1)
            for q in answered
            if q.elapsed_ms is not None
        ),
        providers=tuple(_provider(provider, queries) for provider in Provider),
    )


def _histogram(values: Iterable[int]) -> tuple[HistogramBin, ...]:
    """Counts per bin ``[lower, upper)``; the last bin is open-ended."""
    counts = Counter(bisect.bisect_right(HISTOGRAM_EDGES_MS, max(v, 0)) - 1 for v in values)
    uppers = (*HISTOGRAM_EDGES_MS[1:], None)
    return tuple(
        HistogramBin(lower, upper, counts.get(index, 0))
        for index, (lower, upper) in enumerate(zip(HISTOGRAM_EDGES_MS, uppers, strict=True))
    )


def _provider(provider: Provider, queries: Sequence[_QueryFacts]) -> ProviderFigures:
    outcomes = [o for q in queries for o in q.outcomes.get(provider, [])]
    kinds = Counter(o.kind for o in outcomes)
    made = [o for o in outcomes if o.kind not in NOT_CALLED]
    errors = [o for o in outcomes if o.kind is OutcomeKind.ERROR]
    return ProviderFigures(
        provider=provider.value,
        queries=sum(provider in q.outcomes for q in queries),
        calls=len(made),
        answered=kinds[OutcomeKind.ANSWERED],
        no_data=kinds[OutcomeKind.NO_DATA],
        errors=len(errors),
        ssbt_errors=sum(o.error_source is ErrorSource.SSBT for o in errors),
        bt_errors=sum(o.error_source is ErrorSource.BT for o in errors),
        closed=kinds[OutcomeKind.CLOSED],
        not_entitled=kinds[OutcomeKind.NOT_ENTITLED],
        latency_ms=Percentiles.of([o.latency_ms for o in made]),
        not_asked=tuple(
            NotAskedCount(
                kind.value,
                sum(any(o.kind is kind for o in q.outcomes.get(provider, [])) for q in queries),
            )
            for kind in OutcomeKind
            if kind in NOT_CALLED
        ),
    )


def _traffic(
    queries: Sequence[_QueryFacts], rejections: Sequence[_Rejection], hours: BusinessHours
) -> dict[dt.datetime, MinuteTraffic]:
    traffic: dict[dt.datetime, MinuteTraffic] = {}
    for rejection in rejections:
        traffic.setdefault(minute_of(rejection.at, hours), MinuteTraffic()).refused += 1
    for query in queries:
        minute = traffic.setdefault(minute_of(query.received_at, hours), MinuteTraffic())
        minute.received += 1
        if query.answered:
            minute.answered += 1
        elif query.unanswered:
            minute.unanswered += 1
        if query.failed_providers >= 2:
            minute.disturbed += 1
    return traffic


def _delivery(
    queries: Sequence[_QueryFacts], rejections: Sequence[_Rejection]
) -> DeliveryPrecision:
    answered = sum(q.answered for q in queries)
    left = sum(q.left_by_caller for q in queries)
    share = share_of(answered, len(queries) - left)
    reasons = Counter(r.reason for r in rejections)
    return DeliveryPrecision(
        received=len(queries),
        answered=answered,
        unanswered=sum(q.unanswered for q in queries),
        left_by_caller=left,
        share=share,
        target_met=None if share is None else share >= DELIVERY_TARGET_PERCENT,
        rejected=tuple(RejectionCount(reason, reasons[reason]) for reason in sorted(reasons)),
    )


def _usage(
    queries: Sequence[_QueryFacts],
    rejections: Sequence[_Rejection],
    hours: BusinessHours,
    names: OrganisationNames | None,
) -> Usage:
    asked = Counter(q.organisation for q in queries)
    subjects: Counter[str] = Counter()
    for query in queries:
        subjects[query.organisation] += query.subject_count
    refused = Counter(r.organisation for r in rejections)
    per_minute = Counter(minute_of(q.received_at, hours) for q in queries)
    return Usage(
        queries=len(queries),
        subjects=sum(subjects.values()),
        rejected=len(rejections),
        peak_queries_per_minute=max(per_minute.values(), default=0),
        organisations=tuple(
            OrganisationUsage(
                written_organisation(organisation),
                names.name_of(organisation) if names and organisation else None,
                asked[organisation],
                subjects[organisation],
                refused[organisation],
            )
            for organisation in sorted(asked.keys() | refused.keys())
        ),
    )


def _security_events(rejections: Sequence[_Rejection]) -> tuple[ImpersonationAttempts, ...]:
    """Attempts to act as another organisation, one entry per caller."""
    by_caller: dict[str, list[_Rejection]] = {}
    for rejection in rejections:
        if rejection.claimed:
            by_caller.setdefault(rejection.organisation, []).append(rejection)
    return tuple(
        ImpersonationAttempts(
            caller=written_organisation(caller),
            claimed=tuple(sorted({written_organisation(r.claimed) for r in attempts})),
            attempts=len(attempts),
            first_at=min(r.at for r in attempts),
            last_at=max(r.at for r in attempts),
        )
        for caller, attempts in sorted(by_caller.items())
    )


def written_organisation(organisation: str) -> str:
    """Ten digits as an organisation number is written, ``NNNNNN-NNNN``."""
    if len(organisation) == 10 and organisation.isdigit():
        return f"{organisation[:6]}-{organisation[6:]}"
    return organisation
