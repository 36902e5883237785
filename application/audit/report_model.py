"""The monthly service-level report (004 Bilaga 4 § 3.7-3.9 and § 4), as values.

Figures only: counts, shares, minutes, latencies, organisation numbers and provider
names. Nothing personal is in a query's events, so nothing personal can be here.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Final

import attrs

from application.audit.report_sources import PlannedChange, PriorityFigures
from domain.providers import STOCKHOLM

PERFORMANCE_TARGET_PERCENT: Final = 90.0
"""§ 3.7.1: at least 90 % within 7 s (+1.5 s per extra subject), the rest within 12 s."""
AVAILABILITY_TARGET_PERCENT: Final = 90.0
"""§ 3.8.1: 90 % within opening hours."""
MAX_UNPLANNED_OUTAGES: Final = 1
"""§ 3.8.1: at most one unplanned outage a month (and four a year)."""
DELIVERY_TARGET_PERCENT: Final = 95.0
"""§ 3.9.1: at least 95 % of all calls answered each month."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@attrs.frozen
class Month:
    """A calendar month on the Stockholm wall clock."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-11`` -> November 2026."""
        match = _MONTH.fullmatch(text.strip())
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ValueError("a month is written YYYY-MM, e.g. 2026-11")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=STOCKHOLM)

    @property
    def end(self) -> dt.datetime:
        """The first moment of the next month (exclusive)."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return dt.datetime(year, month, 1, tzinfo=STOCKHOLM)

    def days(self) -> list[dt.date]:
        count = month_calendar.monthrange(self.year, self.month)[1]
        return [dt.date(self.year, self.month, day) for day in range(1, count + 1)]

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@attrs.frozen
class Percentiles:
    """Nearest-rank percentiles (the value at rank ceil(p/100 x n) of the sorted values)."""

    count: int
    p50: int | None
    p90: int | None
    p95: int | None
    p99: int | None
    max: int | None

    @classmethod
    def of(cls, values: Sequence[int]) -> Percentiles:
        ordered = sorted(values)

        def rank(percent: int) -> int | None:
            if not ordered:
                return None
            return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]

        return cls(
            len(ordered), rank(50), rank(90), rank(95), rank(99), ordered[-1] if ordered else None
        )


@attrs.frozen
class HistogramBin:
    lower_ms: int
    upper_ms: int | None
    """Exclusive; ``None`` for the last, open-ended bin."""
    count: int


@attrs.frozen
class NotAskedCount:
    """Queries in which the provider was not asked, for one reason (an outcome kind that
    sends no call: CLOSED, NOT_ENTITLED, PROVIDER_NOT_CONNECTED, PROVIDER_STOPPED)."""

    reason: str
    queries: int


@attrs.frozen
class ProviderFigures:
    """One provider's calls in the month. Latencies cover the calls made (not the ones
    never sent: closed, not entitled, provider not connected or stopped)."""

    provider: str
    queries: int
    calls: int
    answered: int
    no_data: int
    errors: int
    ssbt_errors: int
    bt_errors: int
    closed: int
    not_entitled: int
    latency_ms: Percentiles
    not_asked: tuple[NotAskedCount, ...]
    """Per reason, every reason listed: queries where the provider was not asked."""


@attrs.frozen
class Performance:
    """§ 3.7: the time from receipt of a query until its answer left (``Query.Delivered``)."""

    answered_queries: int
    within_target: int
    within_limit: int
    share_within_target: float | None
    share_within_limit: float | None
    target_met: bool | None
    """At least 90 % within 7 s + 1.5 s per extra subject."""
    limit_met: bool | None
    """Every answer within 12 s + 1.5 s per extra subject."""
    query_time_ms: Percentiles
    normalised_histogram: tuple[HistogramBin, ...]
    """Query time minus 1.5 s per extra subject, so the 7 s and 12 s lines hold for all."""
    providers: tuple[ProviderFigures, ...]


@attrs.frozen
class Outage:
    """A run of unavailable opening minutes (ADR 0012)."""

    start: dt.datetime
    end: dt.datetime
    minutes: int
    planned: bool
    evidence: tuple[str, ...]


@attrs.frozen
class DayAvailability:
    """One working day's opening minutes by what the evidence shows (ADR 0012)."""

    day: dt.date
    opening_minutes: int
    answering_minutes: int
    """Up and answering (available; some of them with disturbance)."""
    failing_minutes: int
    """Up and failing: queries got no answer, or an outage was recorded."""
    not_running_minutes: int
    no_evidence_minutes: int
    """Before the service's first record of its running time: not measured."""
    not_yet_minutes: int
    """Not yet happened when the report was made: not measured."""
    disturbed_minutes: int

    @property
    def measured_minutes(self) -> int:
        return self.opening_minutes - self.no_evidence_minutes - self.not_yet_minutes

    @property
    def unavailable_minutes(self) -> int:
        return self.failing_minutes + self.not_running_minutes

    @property
    def percentage(self) -> float | None:
        measured = self.measured_minutes
        return 100.0 * self.answering_minutes / measured if measured else None


@attrs.frozen
class ProcessRun:
    """One process of the service running (a worker on a node), as its records show it."""

    node: str
    worker: int
    start: dt.datetime
    end: dt.datetime
    ended: str
    """``stopped``, ``no sign of life`` (its records end or pause) or ``still running``."""


@attrs.frozen
class EvidencePeriod:
    """The part of the month the report has evidence for: from the service's first record of
    its running time (or the month's start) until the report was made (or the month's end)."""

    start: dt.datetime
    end: dt.datetime


@attrs.frozen
class Availability:
    """§ 3.8: within opening hours (Mon-Fri 08:00-17:00 Stockholm, no public holidays),
    measured only over the elapsed opening minutes the service has evidence for."""

    opening_minutes: int
    measured_minutes: int
    """Opening minutes within the evidence period that have passed."""
    available_minutes: int
    """Up and answering."""
    unavailable_minutes: int
    failing_minutes: int
    not_running_minutes: int
    no_evidence_minutes: int
    not_yet_minutes: int
    planned_unavailable_minutes: int
    disturbed_minutes: int
    """Available, with disturbance: two or more providers could not answer."""
    percentage: float | None
    """Available of measured; ``None`` without a measured minute."""
    target_met: bool | None
    unplanned_outages: int
    reliability_met: bool | None
    outages: tuple[Outage, ...]
    days: tuple[DayAvailability, ...]
    recorded_outages_source: bool
    """Whether outages recorded outside the query log were taken into account."""
    evidence: EvidencePeriod | None
    """``None``: no evidence of running time covers any of the month."""
    runs: tuple[ProcessRun, ...]


@attrs.frozen
class RejectionCount:
    reason: str
    count: int


@attrs.frozen
class DeliveryPrecision:
    """§ 3.9: answered queries against queries received. A refusal of an invalid or
    unauthorised request is an answer, counted apart (``rejected``); a query its caller
    cancelled before the service level's limit is left out (``left_by_caller``)."""

    received: int
    answered: int
    unanswered: int
    """Abandoned by a process that died, cancelled after the limit, or never closed."""
    left_by_caller: int
    share: float | None
    target_met: bool | None
    rejected: tuple[RejectionCount, ...]


@attrs.frozen
class OrganisationUsage:
    organisation: str
    """``NNNNNN-NNNN``; empty when the request named no valid organisation (it was refused)."""
    name: str | None
    """The party's name, when the Parties application knows the organisation."""
    queries: int
    subjects: int
    rejected: int


@attrs.frozen
class Usage:
    """How much the service was used (not secret, 004 § 7.2)."""

    queries: int
    subjects: int
    rejected: int
    peak_queries_per_minute: int
    organisations: tuple[OrganisationUsage, ...]


@attrs.frozen
class ImpersonationAttempts:
    """A security event: a caller whose requests named another organisation than the one its
    client certificate proves, listed by caller (ADR 24). Such a request is refused
    ``ORGANISATION_MISMATCH``, or for a fault found first (``INVALID_ARGUMENT``): either way
    the request claimed to be another organisation."""

    caller: str
    """``NNNNNN-NNNN``; empty for refusals stored before callers were recorded."""
    claimed: tuple[str, ...]
    """The organisations it named, ``NNNNNN-NNNN``."""
    attempts: int
    first_at: dt.datetime
    last_at: dt.datetime


@attrs.frozen
class MonthlyReport:
    month: Month
    performance: Performance
    availability: Availability
    delivery: DeliveryPrecision
    usage: Usage
    incidents: tuple[PriorityFigures, ...] | None
    """``None``: no data source is wired."""
    problems: tuple[PriorityFigures, ...] | None
    planned_changes: tuple[PlannedChange, ...] | None
    read_through: int
    """The last position of the Queries log the report read."""
    running_time_read_through: int | None
    """The last position of the ServiceRuns log read; ``None``: no such log."""
    made_at: dt.datetime
    """When the report was made: later opening minutes had not happened yet."""
    security_events: tuple[ImpersonationAttempts, ...] = ()
    """Attempts to act as another organisation, by caller. A refusal is counted in ``usage``
    against the organisation that made the call, never the one it claimed."""
