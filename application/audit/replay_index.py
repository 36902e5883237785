"""An index of positions by organisation, so a replay filtered by organisation reads that
organisation's events instead of every event of the period (ADR 0027).

``ReplayIndexer`` follows one application's log from where the index stands and records,
for every event, the asking organisation and the caller of its aggregate, computed by the
same rule the replay filters with (``replay.organisations_of``). The index's own rows are
its tracking: everything at or below its highest position is indexed, and a round writes a
page of rows in one transaction, so a crash loses at most a page that the next round
writes again (rows are keyed by position; writing one twice changes nothing). The storage
is a port (``PositionIndex``); the adapters are in ``adapters/persistence``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, Notification

from application.log_reader import BATCH, StoredFormat, pages

_KNOWN: Final = 100_000


@attrs.frozen
class IndexedPosition:
    position: int
    asking: str
    caller: str


class PositionIndex(Protocol):
    """Positions of one application's log by organisation."""

    def indexed_upto(self) -> int:
        """Every position at or below this is indexed; ``0`` when the index is missing."""
        ...

    def record(self, rows: Sequence[IndexedPosition]) -> None:
        """Record ``rows`` in one transaction (a row already recorded is left as it is)."""
        ...

    def select(
        self,
        asking: frozenset[str],
        callers: frozenset[str],
        *,
        after: int,
        upto: int,
        limit: int,
    ) -> list[Notification]:
        """The stored events with ``after < position <= upto`` whose asking organisation is
        in ``asking`` and whose caller is in ``callers`` (an empty set: any), in position
        order, at most ``limit``."""
        ...


class OrganisationsOf(Protocol):
    def __call__(self, topic: str, state: bytes, stored: StoredFormat) -> tuple[str, str]: ...


class ReplayIndexer:
    """Brings a ``PositionIndex`` up to the head of its application's log."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        index: PositionIndex,
        stored: StoredFormat,
        organisations_of: OrganisationsOf,
        *,
        batch: int = BATCH,
    ) -> None:
        self._recorder = recorder
        self._index = index
        self._stored = stored
        self._organisations_of = organisations_of
        self._batch = batch
        self._known: dict[UUID | str, tuple[str, str]] = {}

    def catch_up(self, *, upto: int | None = None) -> int:
        """Index everything stored now (up to ``upto`` when given); how many events were
        indexed."""
        indexed = 0
        after = self._index.indexed_upto()
        for page in pages(self._recorder, after=after, upto=upto, limit=self._batch):
            if page:
                self._index.record([self._row(notification) for notification in page])
                indexed += len(page)
        return indexed

    def _row(self, notification: Notification) -> IndexedPosition:
        asking, caller = self._organisations(notification)
        return IndexedPosition(notification.id, asking, caller)

    def _organisations(self, notification: Notification) -> tuple[str, str]:
        """As ``Replay`` finds them: from the aggregate's first event."""
        key = notification.originator_id
        if key not in self._known:
            state = notification.state
            topic = notification.topic
            if notification.originator_version != 1:
                first = self._recorder.select_events(key, limit=1)
                state = first[0].state if first else b"{}"
                topic = first[0].topic if first else ""
            if len(self._known) >= _KNOWN:
                self._known.clear()
            self._known[key] = self._organisations_of(topic, state, self._stored)
        return self._known[key]
