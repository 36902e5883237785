"""Recovery: queries whose process ended before answering are closed as abandoned.

A query is saved twice: ``Received`` before any provider is asked, and the rest of its
trail in one save before the answer leaves. A ``Received`` with nothing after it, once
the query's deadline (plus a grace period) has passed, belongs to a process that died
(a crash, SIGKILL, a power cut): no answer left it, and its case data died with it.
The step runs at start and then periodically; it is idempotent, and safe beside other
workers because a live query always ends (answered or failed) before its deadline.

Recovery is a follower of the Queries log with a tracking record (the library's
``TrackingRecorder``, ADR 0027). The record holds a *low-water mark*: a position at or
below which every query's ``Received`` (or ``Retried``: a new attempt) is known to be
closed. Each round reads the log,
with the library's ``select_notifications`` filtered to the opening and closing topics,
from the mark (or from where this process already read), closes what is overdue, and
raises the mark to just below the oldest query still open (or to the newest position read
when none is). Since every query closes by its deadline plus the grace, the mark trails
the head of the log by at most a few minutes of traffic: a restarted worker reads only
those minutes, not the year of history below them. The mark only ever rises, so several
workers recording it at once agree (the library keeps the highest); a crash between
closing a query and recording the mark only makes the next round read a little more.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.utils import get_topic

from application.log_reader import pages
from application.pacing import Pace, no_pacing
from application.ports import Clock
from domain.query.aggregate import Query, QueryStateError, QueryStatus

log = logging.getLogger(__name__)

_OPENED: Final = frozenset({get_topic(Query.Received), get_topic(Query.Retried)})
"""A query is open from its ``Received``, and again from a ``Retried`` (a new attempt)."""
_CLOSED: Final = frozenset(
    {get_topic(Query.Delivered), get_topic(Query.Cancelled), get_topic(Query.Abandoned)}
)
_PAGE: Final = 1000
TRACKING_NAME: Final = "Queries.recovery"
"""The tracking record's key (the library's ``application_name`` column): the followed log
and the follower, so it never collides with another follower's record in the same table."""


class Recovery:
    """Follows the query log's opening and closing events; abandons what stays open."""

    def __init__(
        self,
        app: Application[UUID],
        clock: Clock,
        *,
        grace: dt.timedelta,
        tracking: TrackingRecorder | None = None,
    ) -> None:
        """``tracking``: where the low-water mark is kept; ``None`` keeps it in memory only
        (every new process then reads the log from its start)."""
        self._app = app
        self._clock = clock
        self._grace = grace
        self._tracking = tracking
        self._position: int | None = None
        self._open: dict[UUID, int] = {}
        """The queries seen opened and not closed, with the position of their ``Received``."""
        self.read_last_round = 0
        """Notifications read by the last round (for tests and benchmarks)."""

    @property
    def low_water_mark(self) -> int:
        """Every query received at or below this position is closed (as far as read)."""
        position = self._position or 0
        return min((at - 1 for at in self._open.values()), default=position)

    def close_abandoned(self, *, pace: Pace = no_pacing) -> int:
        """Record ``Abandoned`` on every query left open past its deadline; how many.
        ``pace`` is called after each page of the log read (``application.pacing``)."""
        self._follow(pace)
        now = self._clock.now()
        closed = 0
        for query_id in sorted(self._open):
            query: Query = self._app.repository.get(query_id)
            if query.status is not QueryStatus.RECEIVED:
                del self._open[query_id]
                continue
            if query.deadline is not None and now < query.deadline + self._grace:
                continue
            try:
                query.abandon(reason="PROCESS_ENDED", at=now)
            except QueryStateError:
                continue
            self._app.save(query)
            del self._open[query_id]
            closed += 1
        if closed:
            log.warning("recovery closed %d abandoned queries", closed)
        self._record_mark()
        return closed

    def _start(self) -> int:
        if self._position is None:
            self._position = self._stored_mark()
        return self._position

    def _stored_mark(self) -> int:
        if self._tracking is None:
            return 0
        try:
            return self._tracking.max_tracking_id(TRACKING_NAME) or 0
        except Exception as error:  # a store without the tracking table: read it all, once
            log.warning(
                "recovery reads the whole log: no tracking record (%s)", type(error).__name__
            )
            self._tracking = None
            return 0

    def _follow(self, pace: Pace) -> None:
        topics = [*_OPENED, *_CLOSED]
        position = self._start()
        read = 0
        for page in pages(self._app.recorder, after=position, limit=_PAGE, topics=topics):
            if read:
                pace()  # after each full page
            for notification in page:
                query_id = UUID(str(notification.originator_id))
                if notification.topic in _OPENED:  # the latest opening counts
                    self._open[query_id] = notification.id
                else:
                    self._open.pop(query_id, None)
                position = notification.id
            read += len(page)
            self._position = position
        self.read_last_round = read

    def _record_mark(self) -> None:
        if self._tracking is None:
            return
        mark = self.low_water_mark
        try:
            if mark > (self._tracking.max_tracking_id(TRACKING_NAME) or 0):
                self._tracking.insert_tracking(Tracking(TRACKING_NAME, mark))
        except IntegrityError:
            log.debug("another worker recorded the recovery mark first")
        except Exception as error:  # the mark is an optimisation: the next round tries again
            log.warning("could not record the recovery mark: %s", type(error).__name__)
