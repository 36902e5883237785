"""The monthly report from counters: the fold that keeps them and the report made from them.

``MonthlyReports`` (``report.py``) rebuilds a month's report from its events; that stays the
reference. This module folds the same events, one at a time and in log order, into per-month
counters that hold exactly what the report needs (ADR 27):

- answers by integer milliseconds of elapsed time and subject count (exact percentiles,
  shares within the target and the limit, the histogram);
- per provider: outcomes by kind, errors by source, made calls by latency (exact latency
  percentiles), queries per provider and per reason it was not asked;
- per minute of receipt (UTC): queries received, answered, unanswered, disturbed, refused;
- per organisation: queries, subjects, refusals; refusals by reason;
- per caller and claimed organisation: impersonation attempts, first and last time.

A query's figures depend on what became of it (answered, left by its caller, unanswered,
providers failed), which later events change: the fold keeps each query's facts and, on each
of its events, takes away what the query counted before and adds what it counts now. Every
change is a ``Change`` (the facts to keep, the counter deltas): a store applies it, with its
tracking record, in one transaction (``MonthlyCounts`` is the in-memory store).

A query counts in the month in which it was received (Stockholm), as in the reference. The
reference reads a month's events until one day after the month ends (its margin); the fold
likewise ignores what happens to a query after its month's window (a retry days later),
so an ended month's counters never change again and its queries' facts may be dropped.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Final, Protocol
from uuid import UUID

import attrs

from application.audit.availability import MinuteTraffic, availability, minute_of
from application.audit.report import HISTOGRAM_EDGES_MS, MARGIN, share_of, written_organisation
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
from application.audit.report_sources import ReportSources
from application.audit.running_evidence import RunningEvidence
from domain.business_hours import BusinessHours
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query
from domain.query.values import NOT_CALLED, CallOutcome, ErrorSource, OutcomeKind
from domain.service_level import answer_limit, answer_target

_SEP: Final = "\x1f"
"""Between the parts of a counter's key (never in an organisation number or a name)."""
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NOT_CALLED: Final = frozenset(kind.value for kind in NOT_CALLED)


def month_of(moment: dt.datetime) -> Month:
    local = moment.astimezone(STOCKHOLM)
    return Month(local.year, local.month)


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _moment(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def _minute(moment: dt.datetime) -> int:
    """The UTC minute (minutes since the epoch): the report groups it on its own zone."""
    return (moment - _EPOCH) // dt.timedelta(minutes=1)


def _key(*parts: object) -> str:
    return _SEP.join(map(str, parts))


@attrs.frozen
class QueryFacts:
    """What the report needs of one query received in a month (nothing personal)."""

    received_at: dt.datetime
    organisation: str
    subject_count: int
    outcomes: Mapping[str, tuple[tuple[str, int, str], ...]] = attrs.field(factory=dict)
    """Per provider (its value): (outcome kind, latency in ms, error source or "")."""
    elapsed_ms: int | None = None
    cancelled_at: dt.datetime | None = None

    @property
    def month(self) -> Month:
        return month_of(self.received_at)

    @property
    def answered(self) -> bool:
        return self.elapsed_ms is not None

    @property
    def left_by_caller(self) -> bool:
        if self.cancelled_at is None or self.answered:
            return False
        return self.cancelled_at - self.received_at <= answer_limit(self.subject_count)

    @property
    def unanswered(self) -> bool:
        return not self.answered and not self.left_by_caller

    def counts(self) -> Counter[str]:
        """What this query adds to its month's counters."""
        counts: Counter[str] = Counter()
        minute = _minute(self.received_at)
        counts[_key("received", minute)] += 1
        counts[_key("asked", self.organisation)] += 1
        counts[_key("subjects", self.organisation)] += self.subject_count
        if self.elapsed_ms is not None:
            counts[_key("answered", minute)] += 1
            counts[_key("elapsed", self.elapsed_ms, self.subject_count)] += 1
        elif self.left_by_caller:
            counts["left"] += 1
        else:
            counts[_key("unanswered", minute)] += 1
        failed = 0
        for provider, outcomes in self.outcomes.items():
            counts[_key("p.queries", provider)] += 1
            kinds = set()
            for kind, latency_ms, source in outcomes:
                kinds.add(kind)
                counts[_key("p.kind", provider, kind)] += 1
                if kind not in _NOT_CALLED:
                    counts[_key("p.latency", provider, latency_ms)] += 1
                if kind == OutcomeKind.ERROR.value and source:
                    counts[_key("p.source", provider, source)] += 1
            for kind in kinds:
                if kind in _NOT_CALLED:
                    counts[_key("p.not_asked", provider, kind)] += 1
            failed += OutcomeKind.ERROR.value in kinds
        if failed >= 2:
            counts[_key("disturbed", minute)] += 1
        return counts


def _outcomes(outcomes: Iterable[CallOutcome]) -> tuple[tuple[str, int, str], ...]:
    return tuple(
        (o.kind.value, o.latency_ms, o.error_source.value if o.error_source else "")
        for o in outcomes
    )


@attrs.frozen
class Change:
    """What one event changes: the facts of its query to keep (``None``: none changed) and
    the deltas to each month's counters; ``firsts``/``lasts`` keep the earliest and the
    latest moment (microseconds since the epoch) per key."""

    query: UUID | None = None
    facts: QueryFacts | None = None
    deltas: Mapping[Month, Counter[str]] = attrs.field(factory=dict)
    firsts: Mapping[Month, Mapping[str, int]] = attrs.field(factory=dict)
    lasts: Mapping[Month, Mapping[str, int]] = attrs.field(factory=dict)


class FactsLookup(Protocol):
    def facts(self, query: UUID) -> QueryFacts | None: ...


def _step(event: object, known: FactsLookup) -> tuple[UUID, QueryFacts | None, QueryFacts] | None:
    """What one event (not a ``Rejected``) makes of its query's facts: the query, its facts
    before (``None`` for ``Received``) and after; ``None`` when it changes no figure."""
    if isinstance(event, Query.Received):
        facts = QueryFacts(event.timestamp, event.asking_organisation, event.subject_count)
        return event.originator_id, None, facts
    if not isinstance(
        event, Query.Compiled | Query.ProviderAnswered | Query.Delivered | Query.Cancelled
    ):
        return None
    before = known.facts(event.originator_id)
    if before is None or event.timestamp >= before.month.end + MARGIN:
        return None  # not received in a month counted, or past its month's window
    if isinstance(event, Query.Compiled):
        outcomes = dict(before.outcomes)
        for calls in event.calls:
            outcomes[calls.provider.value] = _outcomes(calls.outcomes)
        after = attrs.evolve(before, outcomes=outcomes)
    elif isinstance(event, Query.ProviderAnswered):  # streams from before Compiled v3
        outcomes = dict(before.outcomes)
        outcomes[event.provider.value] = _outcomes(event.outcomes)
        after = attrs.evolve(before, outcomes=outcomes)
    elif isinstance(event, Query.Delivered):
        after = attrs.evolve(before, elapsed_ms=event.elapsed_ms)
    else:
        after = attrs.evolve(before, cancelled_at=event.timestamp)
    return event.originator_id, before, after


def _change(query: UUID, before: QueryFacts | None, after: QueryFacts) -> Change:
    """A query's facts went from ``before`` to ``after``: what its month's counters change."""
    delta = after.counts()
    if before is None:
        return Change(query, after, {after.month: delta})
    delta.subtract(before.counts())
    return Change(query, after, {before.month: Counter({k: v for k, v in delta.items() if v})})


def fold(event: object, known: FactsLookup) -> Change | None:
    """The change one Query event makes; ``None`` when it changes no figure."""
    if isinstance(event, Query.Rejected):
        return _rejected(event)
    step = _step(event, known)
    return None if step is None else _change(*step)


class _Pending:
    """The facts of the queries a batch changed: the first ``before`` and the latest."""

    def __init__(self, known: FactsLookup) -> None:
        self._known = known
        self.first: dict[UUID, QueryFacts | None] = {}
        self.latest: dict[UUID, QueryFacts] = {}

    def facts(self, query: UUID) -> QueryFacts | None:
        found = self.latest.get(query)
        return found if found is not None else self._known.facts(query)


def fold_many(events: Iterable[object], known: FactsLookup) -> list[Change]:
    """The changes a batch of Query events makes, in log order, one per query changed (and
    one per refusal): the same counters as ``fold`` event by event, summed (a query's deltas
    telescope: what it counts after the batch less what it counted before it), at the cost
    of one count per query instead of two per event. ``known`` gives the facts from before
    the batch."""
    pending = _Pending(known)
    changes: list[Change] = []
    for event in events:
        if isinstance(event, Query.Rejected):
            changes.append(_rejected(event))
            continue
        step = _step(event, pending)
        if step is None:
            continue
        query, before, after = step
        if before is None and query in pending.latest:
            # a second Received for a query (never written): counted afresh, as ``fold`` does
            changes.append(_change(query, pending.first.pop(query), pending.latest.pop(query)))
        pending.first.setdefault(query, before)
        pending.latest[query] = after
    changes.extend(
        _change(query, pending.first[query], after) for query, after in pending.latest.items()
    )
    return changes


def _rejected(event: Query.Rejected) -> Change:
    month = month_of(event.timestamp)
    counts: Counter[str] = Counter()
    counts[_key("refused", _minute(event.timestamp))] += 1
    counts[_key("reason", event.reason.value)] += 1
    counts[_key("refused_by", event.asking_organisation)] += 1
    if not event.claimed_organisation:
        return Change(deltas={month: counts})
    attempt = _key("attempts", event.asking_organisation, event.claimed_organisation)
    counts[attempt] += 1
    at = _micros(event.timestamp)
    return Change(
        deltas={month: counts}, firsts={month: {attempt: at}}, lasts={month: {attempt: at}}
    )


@attrs.define
class MonthCounters:
    """One month's counters, as read back from a store."""

    counts: dict[str, int] = attrs.field(factory=dict)
    firsts: dict[str, int] = attrs.field(factory=dict)
    lasts: dict[str, int] = attrs.field(factory=dict)

    def apply(self, change: Change, month: Month) -> None:
        for key, delta in change.deltas.get(month, {}).items():
            self.counts[key] = self.counts.get(key, 0) + delta
        for key, at in change.firsts.get(month, {}).items():
            self.firsts[key] = min(self.firsts.get(key, at), at)
        for key, at in change.lasts.get(month, {}).items():
            self.lasts[key] = max(self.lasts.get(key, at), at)

    def by(self, kind: str) -> dict[tuple[str, ...], int]:
        """The non-zero counters of one kind, by the rest of their key."""
        prefix = kind + _SEP
        return {
            tuple(key[len(prefix) :].split(_SEP)): value
            for key, value in self.counts.items()
            if value and key.startswith(prefix)
        }


class MonthlyCounts:
    """The counters and the facts in memory (tests; the reference for a persisted store)."""

    def __init__(self) -> None:
        self._facts: dict[UUID, QueryFacts] = {}
        self._months: dict[Month, MonthCounters] = {}
        self.position = 0

    def facts(self, query: UUID) -> QueryFacts | None:
        return self._facts.get(query)

    def observe(self, event: object, position: int) -> None:
        change = fold(event, self)
        if change is not None:
            if change.query is not None and change.facts is not None:
                self._facts[change.query] = change.facts
            for month in {*change.deltas, *change.firsts, *change.lasts}:
                self._months.setdefault(month, MonthCounters()).apply(change, month)
        self.position = position

    def counters(self, month: Month) -> MonthCounters:
        return self._months.get(month, MonthCounters())


def report_from_counters(
    month: Month,
    counters: MonthCounters,
    hours: BusinessHours,
    sources: ReportSources,
    read_through: int,
    running: RunningEvidence | None,
    now: dt.datetime,
) -> MonthlyReport:
    """The report of ``month`` from its counters: the figures ``MonthlyReports.build``
    computes from the events."""
    start, end = month.start, month.end
    return MonthlyReport(
        month=month,
        performance=_performance(counters),
        availability=availability(
            month,
            hours,
            _traffic(counters, hours),
            sources.outages.outages(start, end) if sources.outages else None,
            running,
            now,
        ),
        delivery=_delivery(counters),
        usage=_usage(counters, hours, sources),
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
        security_events=_security_events(counters),
    )


def percentiles_of_counts(counts: Mapping[int, int]) -> Percentiles:
    """``Percentiles.of`` over values given as value -> how many times it occurs."""
    ordered = sorted((value, n) for value, n in counts.items() if n)
    total = sum(n for _, n in ordered)

    def rank(percent: int) -> int | None:
        if not total:
            return None
        wanted = max(1, -(-percent * total // 100))
        seen = 0
        for value, n in ordered:
            seen += n
            if seen >= wanted:
                return value
        return ordered[-1][0]

    return Percentiles(
        total, rank(50), rank(90), rank(95), rank(99), ordered[-1][0] if ordered else None
    )


def _performance(counters: MonthCounters) -> Performance:
    elapsed = {(int(ms), int(n)): count for (ms, n), count in counters.by("elapsed").items()}
    answered = sum(elapsed.values())
    ms = dt.timedelta(milliseconds=1)
    within_target = sum(count for (e, n), count in elapsed.items() if e <= answer_target(n) / ms)
    within_limit = sum(count for (e, n), count in elapsed.items() if e <= answer_limit(n) / ms)
    times: Counter[int] = Counter()
    bins: Counter[int] = Counter()
    for (e, n), count in elapsed.items():
        times[e] += count
        bins[bisect.bisect_right(HISTOGRAM_EDGES_MS, max(e - 1500 * (n - 1), 0)) - 1] += count
    target_share = share_of(within_target, answered)
    limit_share = share_of(within_limit, answered)
    return Performance(
        answered_queries=answered,
        within_target=within_target,
        within_limit=within_limit,
        share_within_target=target_share,
        share_within_limit=limit_share,
        target_met=None if target_share is None else target_share >= PERFORMANCE_TARGET_PERCENT,
        limit_met=None if limit_share is None else within_limit == answered,
        query_time_ms=percentiles_of_counts(times),
        normalised_histogram=tuple(
            HistogramBin(lower, upper, bins.get(index, 0))
            for index, (lower, upper) in enumerate(
                zip(HISTOGRAM_EDGES_MS, (*HISTOGRAM_EDGES_MS[1:], None), strict=True)
            )
        ),
        providers=tuple(_provider(provider, counters) for provider in Provider),
    )


def _provider(provider: Provider, counters: MonthCounters) -> ProviderFigures:
    name = provider.value
    kinds = {kind: n for (p, kind), n in counters.by("p.kind").items() if p == name}
    sources = {source: n for (p, source), n in counters.by("p.source").items() if p == name}
    latencies = {int(ms): n for (p, ms), n in counters.by("p.latency").items() if p == name}
    not_asked = {kind: n for (p, kind), n in counters.by("p.not_asked").items() if p == name}
    return ProviderFigures(
        provider=name,
        queries=counters.by("p.queries").get((name,), 0),
        calls=sum(latencies.values()),
        answered=kinds.get(OutcomeKind.ANSWERED.value, 0),
        no_data=kinds.get(OutcomeKind.NO_DATA.value, 0),
        errors=kinds.get(OutcomeKind.ERROR.value, 0),
        ssbt_errors=sources.get(ErrorSource.SSBT.value, 0),
        bt_errors=sources.get(ErrorSource.BT.value, 0),
        closed=kinds.get(OutcomeKind.CLOSED.value, 0),
        not_entitled=kinds.get(OutcomeKind.NOT_ENTITLED.value, 0),
        latency_ms=percentiles_of_counts(latencies),
        not_asked=tuple(
            NotAskedCount(kind.value, not_asked.get(kind.value, 0))
            for kind in OutcomeKind
            if kind in NOT_CALLED
        ),
    )


def _per_minute(counters: MonthCounters, kind: str) -> dict[int, int]:
    return {int(minute): n for (minute,), n in counters.by(kind).items()}


def _traffic(counters: MonthCounters, hours: BusinessHours) -> dict[dt.datetime, MinuteTraffic]:
    traffic: dict[dt.datetime, MinuteTraffic] = {}

    def at(minute: int) -> MinuteTraffic:
        moment = _EPOCH + dt.timedelta(minutes=minute)
        return traffic.setdefault(minute_of(moment, hours), MinuteTraffic())

    for minute, n in _per_minute(counters, "refused").items():
        at(minute).refused += n
    for minute, n in _per_minute(counters, "received").items():
        at(minute).received += n
    for minute, n in _per_minute(counters, "answered").items():
        at(minute).answered += n
    for minute, n in _per_minute(counters, "unanswered").items():
        at(minute).unanswered += n
    for minute, n in _per_minute(counters, "disturbed").items():
        at(minute).disturbed += n
    return traffic


def _delivery(counters: MonthCounters) -> DeliveryPrecision:
    received = sum(_per_minute(counters, "received").values())
    answered = sum(_per_minute(counters, "answered").values())
    left = counters.counts.get("left", 0)
    share = share_of(answered, received - left)
    reasons = {reason: n for (reason,), n in counters.by("reason").items()}
    return DeliveryPrecision(
        received=received,
        answered=answered,
        unanswered=sum(_per_minute(counters, "unanswered").values()),
        left_by_caller=left,
        share=share,
        target_met=None if share is None else share >= DELIVERY_TARGET_PERCENT,
        rejected=tuple(RejectionCount(reason, reasons[reason]) for reason in sorted(reasons)),
    )


def _usage(counters: MonthCounters, hours: BusinessHours, sources: ReportSources) -> Usage:
    names = sources.organisations
    asked = {organisation: n for (organisation,), n in counters.by("asked").items()}
    subjects = {organisation: n for (organisation,), n in counters.by("subjects").items()}
    refused = {organisation: n for (organisation,), n in counters.by("refused_by").items()}
    per_minute: Counter[dt.datetime] = Counter()
    for minute, n in _per_minute(counters, "received").items():
        per_minute[minute_of(_EPOCH + dt.timedelta(minutes=minute), hours)] += n
    return Usage(
        queries=sum(asked.values()),
        subjects=sum(subjects.values()),
        rejected=sum(refused.values()),
        peak_queries_per_minute=max(per_minute.values(), default=0),
        organisations=tuple(
            OrganisationUsage(
                written_organisation(organisation),
                names.name_of(organisation) if names and organisation else None,
                asked.get(organisation, 0),
                subjects.get(organisation, 0),
                refused.get(organisation, 0),
            )
            for organisation in sorted(asked.keys() | refused.keys())
        ),
    )


def _security_events(counters: MonthCounters) -> tuple[ImpersonationAttempts, ...]:
    by_caller: dict[str, list[tuple[str, int, int, int]]] = {}
    for (caller, claimed), n in counters.by("attempts").items():
        key = _key("attempts", caller, claimed)
        by_caller.setdefault(caller, []).append(
            (claimed, n, counters.firsts[key], counters.lasts[key])
        )
    return tuple(
        ImpersonationAttempts(
            caller=written_organisation(caller),
            claimed=tuple(sorted({written_organisation(claimed) for claimed, *_ in attempts})),
            attempts=sum(n for _, n, _, _ in attempts),
            first_at=_moment(min(first for _, _, first, _ in attempts)),
            last_at=_moment(max(last for _, _, _, last in attempts)),
        )
        for caller, attempts in sorted(by_caller.items())
    )
