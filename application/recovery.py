"""Recovery: queries whose process ended before answering are closed as abandoned.

A query is saved twice: ``Received`` before any provider is asked, and the rest of its
trail in one save before the answer leaves. A ``Received`` with nothing after it, once
the query's deadline (plus a grace period) has passed, belongs to a process that died
(a crash, SIGKILL, a power cut): no answer left it, and its case data died with it.
The step runs at start and then periodically; it is idempotent, and safe beside other
workers because a live query always ends (answered or failed) before its deadline.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Final
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

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


class Recovery:
    """Follows the query log's opening and closing events; abandons what stays open."""

    def __init__(self, app: Application[UUID], clock: Clock, *, grace: dt.timedelta) -> None:
        self._app = app
        self._clock = clock
        self._grace = grace
        self._position = 0
        self._open: set[UUID] = set()

    def close_abandoned(self, *, pace: Pace = no_pacing) -> int:
        """Record ``Abandoned`` on every query left open past its deadline; how many.
        ``pace`` is called after each page of the log read (``application.pacing``)."""
        self._follow(pace)
        now = self._clock.now()
        closed = 0
        for query_id in sorted(self._open):
            query: Query = self._app.repository.get(query_id)
            if query.status is not QueryStatus.RECEIVED:
                self._open.discard(query_id)
                continue
            if query.deadline is not None and now < query.deadline + self._grace:
                continue
            try:
                query.abandon(reason="PROCESS_ENDED", at=now)
            except QueryStateError:
                continue
            self._app.save(query)
            self._open.discard(query_id)
            closed += 1
        if closed:
            log.warning("recovery closed %d abandoned queries", closed)
        return closed

    def _follow(self, pace: Pace) -> None:
        topics = [*_OPENED, *_CLOSED]
        while True:
            page = self._app.recorder.select_notifications(self._position + 1, _PAGE, topics=topics)
            for notification in page:
                query_id = UUID(str(notification.originator_id))
                if notification.topic in _OPENED:
                    self._open.add(query_id)
                else:
                    self._open.discard(query_id)
                self._position = notification.id
            if len(page) < _PAGE:
                return
            pace()
