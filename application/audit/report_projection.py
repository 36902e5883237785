"""The monthly report's persisted projection: a tracked follower of the Queries log, and the
report made from its counters (ADR 27).

``ReportCountsFollower`` reads the Queries log from its tracking record, a page at a time
(only the topics the report folds), folds each page into counter deltas
(``report_counters.fold``) and hands them to the view, which writes them and the tracking
record of the page's last position in one transaction: after a restart nothing is counted
twice and nothing is missed.

``CountedMonthlyReports.build(month)`` reads, in one snapshot, the month's counters and the
position they account for, folds the few events after that position (up to the reference's
window: a day past the month), and makes the report from the result: exactly the figures
``MonthlyReports`` rebuilds from the events, at the cost of the counters and the lag. When
the projection has not reached the month's window yet (never run, or far behind), it says so
in the log and the report is rebuilt from the events (``MonthlyReports``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.audit.ports import EventLog
from application.audit.report import FOLDED_TOPICS, MARGIN, MonthlyReports
from application.audit.report_counters import (
    Change,
    MonthCounters,
    QueryFacts,
    fold_many,
    month_of,
    report_from_counters,
)
from application.audit.report_model import Month, MonthlyReport
from application.audit.report_sources import ReportSources
from application.log_reader import StoredFormat, first_position_at_or_after, pages
from application.ports import Clock
from domain.business_hours import BusinessHours

log = logging.getLogger(__name__)

TRACKING_NAME: Final = "Queries.report"
"""The tracking record's application name (the upstream log and this follower)."""
PAGE: Final = 2000


class ReportCountsView(Protocol):
    """Where the counters, the open queries' facts and the tracking record are kept."""

    def position(self) -> int:
        """The last position of the Queries log counted (0: none)."""
        ...

    def facts_of(self, queries: Iterable[UUID]) -> dict[UUID, QueryFacts]: ...

    def snapshot(
        self, month: Month, referenced: Callable[[int], set[UUID]]
    ) -> tuple[int, MonthCounters, dict[UUID, QueryFacts]]:
        """In one snapshot: the position, the month's counters, and the facts of the queries
        ``referenced(position)`` names (the events after the position)."""
        ...

    def record(
        self,
        changes: Sequence[Change],
        after: int,
        tracking: Tracking,
        drop_before: Month | None = None,
    ) -> None:
        """The changes and the tracking record, in one transaction; only if the position is
        still ``after`` (else ``ProjectionMovedError``, nothing written). ``drop_before``:
        forget the facts of queries received before that month (its window has passed)."""
        ...


class ProjectionUnavailableError(Exception):
    """The counters cannot be read (their tables are missing: a store prepared before them,
    or opened read-only): the report is rebuilt from the events."""


class ProjectionMovedError(Exception):
    """Another process counted these events first (a lease handed over): nothing written."""


class _Known:
    """Facts read from the view, then changed by the page being folded."""

    def __init__(self, facts: dict[UUID, QueryFacts]) -> None:
        self._facts = facts

    def facts(self, query: UUID) -> QueryFacts | None:
        return self._facts.get(query)


def _fold_page(events: Sequence[object], known: _Known) -> list[Change]:
    """A page's changes, one per query it changed (``fold_many``: the same counters as
    folding it event by event)."""
    return fold_many(events, known)


def _referenced(events: Iterable[object]) -> set[UUID]:
    return {
        originator
        for event in events
        if isinstance(originator := getattr(event, "originator_id", None), UUID)
    }


class ReportCountsFollower:
    """Keeps the report's counters up with the Queries log (run by the background roles)."""

    def __init__(self, queries: EventLog, view: ReportCountsView, *, page: int = PAGE) -> None:
        self._queries = queries
        self._view = view
        self.page = page
        self.counted_last_round = 0
        self._dropped: Month | None = None

    def _passed(self, events: Sequence[object]) -> Month | None:
        """The month before which every month's window has passed, when that moved on: the
        facts of its queries are no longer needed (``fold`` ignores what comes later)."""
        stamps = [s for e in events if isinstance(s := getattr(e, "timestamp", None), dt.datetime)]
        if not stamps:
            return None
        month = month_of(max(stamps) - MARGIN)
        if month == self._dropped:
            return None
        self._dropped = month
        return month

    def catch_up(self, *, max_pages: int | None = None) -> int:
        """Fold what is new, a page a transaction; returns how many events were read."""
        recorder, mapper = self._queries.recorder, self._queries.mapper
        read = 0
        after = self._view.position()
        for number, found in enumerate(
            pages(recorder, after=after, limit=self.page, topics=FOLDED_TOPICS)
        ):
            if not found:
                break
            events = [mapper.to_domain_event(n) for n in found]
            known = _Known(self._view.facts_of(_referenced(events)))
            changes = _fold_page(events, known)
            self._view.record(
                changes, after, Tracking(TRACKING_NAME, found[-1].id), self._passed(events)
            )
            after = found[-1].id
            read += len(found)
            if max_pages is not None and number + 1 >= max_pages:
                break
        self.counted_last_round = read
        return read


class CountedMonthlyReports(MonthlyReports):
    """The monthly report from the projection's counters; from the events when the
    projection is behind the month (the reference, ``MonthlyReports``)."""

    def __init__(
        self,
        queries: EventLog,
        hours: BusinessHours,
        sources: ReportSources | None = None,
        *,
        view: ReportCountsView,
        running_time: EventLog | None,
        clock: Clock,
        stored: StoredFormat,
    ) -> None:
        super().__init__(
            queries, hours, sources, running_time=running_time, clock=clock, stored=stored
        )
        self._view = view
        self.last_source = ""
        """``counters`` or ``events``: where the last report came from."""

    def build(self, month: Month) -> MonthlyReport:
        recorder, mapper = self._queries.recorder, self._queries.mapper
        start = first_position_at_or_after(recorder, month.start - MARGIN, self._stored)
        stop_after = month.end + MARGIN
        tail: list[object] = []
        read_through = 0

        def after(position: int) -> set[UUID]:
            nonlocal read_through
            tail.clear()
            read_through = position
            if position < start - 1:
                return set()
            for found in pages(recorder, after=position, topics=FOLDED_TOPICS):
                for notification in found:
                    event = mapper.to_domain_event(notification)
                    stamp = getattr(event, "timestamp", None)
                    if isinstance(stamp, dt.datetime) and stamp >= stop_after:
                        return _referenced(tail)
                    tail.append(event)
                    read_through = notification.id
            return _referenced(tail)

        try:
            position, counters, facts = self._view.snapshot(month, after)
        except ProjectionUnavailableError as error:
            log.warning(
                "the report's projection cannot be read (%s): rebuilt from the events",
                error.__cause__.__class__.__name__ if error.__cause__ else "unavailable",
            )
            self.last_source = "events"
            return super().build(month)
        if position < start - 1:
            log.warning(
                "the report's projection is behind %s (counted to %d, the month starts at %d):"
                " rebuilt from the events",
                month,
                position,
                start,
            )
            self.last_source = "events"
            return super().build(month)
        for change in _fold_page(tail, _Known(facts)):
            counters.apply(change, month)
        now = self._clock.now()
        running = self.running_evidence(month, now)
        self.last_source = "counters"
        return report_from_counters(
            month, counters, self._hours, self._sources, read_through, running, now
        )


def facts_to_json(facts: QueryFacts) -> dict[str, object]:
    return {
        "r": facts.received_at.isoformat(),
        "o": facts.organisation,
        "s": facts.subject_count,
        "p": {
            provider: [list(o) for o in outcomes] for provider, outcomes in facts.outcomes.items()
        },
        "e": facts.elapsed_ms,
        "c": facts.cancelled_at.isoformat() if facts.cancelled_at else None,
    }


def facts_from_json(data: Mapping[str, object]) -> QueryFacts:
    outcomes = data["p"]
    assert isinstance(outcomes, dict)
    elapsed, cancelled = data["e"], data["c"]
    return QueryFacts(
        received_at=dt.datetime.fromisoformat(str(data["r"])),
        organisation=str(data["o"]),
        subject_count=int(str(data["s"])),
        outcomes={
            str(provider): tuple((str(k), int(ms), str(src)) for k, ms, src in calls)
            for provider, calls in outcomes.items()
        },
        elapsed_ms=None if elapsed is None else int(str(elapsed)),
        cancelled_at=None if cancelled is None else dt.datetime.fromisoformat(str(cancelled)),
    )
