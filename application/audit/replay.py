"""Replay: every stored event of the chosen applications, in order, filtered, resumable.

Each application's notification log is read in position order; across applications the
heads are merged by event time, so the stream reads chronologically while each log keeps
its own order. Every event carries its application and position: a client resumes with
the last position it saw of each application (``after``). With ``follow`` the stream stays
open and polls the recorders for new events: the library's SQLite recorder offers no
subscription, and polling works the same on every store (ADR 0011).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import Final
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, Notification

from application.audit.replay_index import PositionIndex
from application.audit.stored import originator_text
from application.errors import InvalidRequestError
from application.log_reader import BATCH, MARGIN, StoredFormat, first_position_at_or_after
from domain.errors import FieldViolation

POLL_INTERVAL_S: Final = 0.5
_KNOWN_ORGANISATIONS: Final = 100_000


@attrs.frozen
class ReplayFilter:
    """Which events to replay; an empty set means "any"."""

    applications: frozenset[str] = frozenset()
    aggregate_types: frozenset[str] = frozenset()
    """``Query``, or the aggregate class's topic ``domain.query.aggregate:Query``."""
    event_types: frozenset[str] = frozenset()
    """``Query.Received``, or the full topic ``domain.query.aggregate:Query.Received``."""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    """Exclusive."""
    asking_organisations: frozenset[str] = frozenset()
    """Organisation numbers (10 digits): the events of queries these organisations asked."""
    callers: frozenset[str] = frozenset()
    """Organisation numbers (10 digits): the events of queries these organisations made, as
    their certificates proved them (ADR 24): a refusal's ``caller``; a received query's
    asking organisation, which the certificate had to match. A refusal stored before
    callers were recorded matches none."""


@attrs.frozen
class ReplayedEvent:
    """One stored event as an auditor sees it; ``state`` is the stored JSON, unchanged."""

    application: str
    position: int
    topic: str
    originator_id: str
    originator_version: int
    timestamp: dt.datetime | None
    state: str


def event_type(topic: str) -> str:
    """``domain.query.aggregate:Query.Received`` -> ``Query.Received``."""
    return topic.rpartition(":")[2]


def aggregate_type(topic: str) -> str:
    """``domain.query.aggregate:Query.Received`` -> ``Query``."""
    return event_type(topic).rpartition(".")[0] or event_type(topic)


@attrs.frozen
class _Read:
    notification: Notification
    timestamp: dt.datetime | None
    wanted: bool


class Replay:
    """Replays the logs of the applications it is given (name -> recorder).

    A filter with ``since`` starts each log at the first position of that time (less
    ``MARGIN``), found by bisection on the event times; with ``until`` a log is read no
    further than ``MARGIN`` past it. The cost of a month's replay is then the month's
    events, not the log's whole history (ADR 0027). ``seek=False`` reads every log from its
    start (the former behaviour, kept for the benchmark's before-and-after).

    ``indexes`` (application name -> ``PositionIndex``): a filter by asking organisation or
    caller reads that log's matching positions from the index, up to where the index
    stands, and the rest of the log (the tail the index has not reached) as without it; the
    events, their order and their positions are the same either way (ADR 0027).
    """

    def __init__(
        self,
        logs: Mapping[str, ApplicationRecorder],
        stored: StoredFormat,
        *,
        batch: int = BATCH,
        seek: bool = True,
        indexes: Mapping[str, PositionIndex] | None = None,
    ) -> None:
        self._logs = dict(logs)
        self._indexes = dict(indexes or {})
        self._stored = stored
        self._batch = batch
        self._seek = seek
        self._organisations: dict[UUID | str, tuple[str, str]] = {}

    @property
    def applications(self) -> list[str]:
        return list(self._logs)

    def check(self, chosen: ReplayFilter) -> None:
        """Refuse a filter naming an application this service does not have."""
        unknown = [
            FieldViolation(f"applications[{index}]", "is not an application of this service")
            for index, name in enumerate(sorted(chosen.applications))
            if name not in self._logs
        ]
        if unknown:
            raise InvalidRequestError(unknown)

    def events(
        self, chosen: ReplayFilter, after: Mapping[str, int] | None = None
    ) -> Iterator[ReplayedEvent]:
        """Every matching event stored now (synchronously)."""
        self.check(chosen)
        merge = _Merge(self._cursors(chosen, after))
        while True:
            for name in merge.to_fill():
                merge.filled(name, *self._fetch(name, merge.cursors[name], chosen))
            read = merge.pop()
            if read is None:
                return
            if read[1].wanted:
                yield _replayed(*read)

    async def stream(
        self,
        chosen: ReplayFilter,
        after: Mapping[str, int] | None = None,
        *,
        follow: bool = False,
        poll_interval_s: float = POLL_INTERVAL_S,
    ) -> AsyncGenerator[ReplayedEvent, None]:
        """The matching events, read in worker threads a batch at a time; with ``follow``,
        then every new one as it is stored, until the caller stops iterating."""
        self.check(chosen)
        merge = _Merge(self._cursors(chosen, after))
        while True:
            for name in merge.to_fill():
                found = await asyncio.to_thread(self._fetch, name, merge.cursors[name], chosen)
                merge.filled(name, *found)
            read = merge.pop()
            if read is None:
                if not follow:
                    return
                await asyncio.sleep(poll_interval_s)
                merge.poll_again()
                continue
            if read[1].wanted:
                yield _replayed(*read)

    def _cursors(self, chosen: ReplayFilter, after: Mapping[str, int] | None) -> dict[str, int]:
        names = [n for n in self._logs if not chosen.applications or n in chosen.applications]
        cursors = {name: max(0, (after or {}).get(name, 0)) for name in names}
        if self._seek and chosen.since is not None:
            for name in names:
                start = first_position_at_or_after(
                    self._logs[name], chosen.since - MARGIN, self._stored
                )
                cursors[name] = max(cursors[name], start - 1)
        return cursors

    def _fetch(self, name: str, cursor: int, chosen: ReplayFilter) -> tuple[list[_Read], bool]:
        """The next batch of the log after ``cursor``, and whether the log is finished (read
        past ``until`` and ``MARGIN``: nothing wanted lies further on)."""
        recorder = self._logs[name]
        reads = self._indexed(name, cursor, chosen)
        if reads is None:
            found = recorder.select_notifications(cursor, self._batch, inclusive_of_start=False)
            reads = [self._read(recorder, notification, chosen) for notification in found]
        if self._seek and chosen.until is not None:
            beyond = chosen.until + MARGIN
            for index, read in enumerate(reads):
                if read.timestamp is not None and read.timestamp >= beyond:
                    return reads[:index], True
        return reads, False

    def _indexed(self, name: str, cursor: int, chosen: ReplayFilter) -> list[_Read] | None:
        """The next batch from the log's index, when the filter names organisations and
        the index covers positions after ``cursor``; ``None`` to read the log itself."""
        index = self._indexes.get(name)
        if index is None or not (chosen.asking_organisations or chosen.callers):
            return None
        upto = index.indexed_upto()
        if cursor >= upto:
            return None
        found = index.select(
            chosen.asking_organisations,
            chosen.callers,
            after=cursor,
            upto=upto,
            limit=self._batch,
        )
        reads = [self._read(self._logs[name], n, chosen, indexed=True) for n in found]
        if len(found) < self._batch:  # the index is read to where it stands: then the tail
            recorder = self._logs[name]
            tail = recorder.select_notifications(
                upto, self._batch - len(found), inclusive_of_start=False
            )
            reads.extend(self._read(recorder, notification, chosen) for notification in tail)
        return reads

    def _read(
        self,
        recorder: ApplicationRecorder,
        notification: Notification,
        chosen: ReplayFilter,
        *,
        indexed: bool = False,
    ) -> _Read:
        """``indexed``: read from an index by organisation, which has matched it already."""
        stamp = self._stored.timestamp(notification.state)
        wanted = self._wanted(recorder, notification, stamp, chosen, indexed=indexed)
        return _Read(notification, stamp, wanted)

    def _wanted(
        self,
        recorder: ApplicationRecorder,
        notification: Notification,
        stamp: dt.datetime | None,
        chosen: ReplayFilter,
        *,
        indexed: bool = False,
    ) -> bool:
        topic = notification.topic
        if chosen.aggregate_types and not {aggregate_type(topic), topic.rpartition(".")[0]} & (
            chosen.aggregate_types
        ):
            return False
        if chosen.event_types and not {event_type(topic), topic} & chosen.event_types:
            return False
        if chosen.since is not None and (stamp is None or stamp < chosen.since):
            return False
        if chosen.until is not None and (stamp is None or stamp >= chosen.until):
            return False
        if (chosen.asking_organisations or chosen.callers) and not indexed:
            asking, caller = self._organisation(recorder, notification)
            if chosen.asking_organisations and asking not in chosen.asking_organisations:
                return False
            if chosen.callers and caller not in chosen.callers:
                return False
        return True

    def _organisation(
        self, recorder: ApplicationRecorder, notification: Notification
    ) -> tuple[str, str]:
        """The asking organisation and the caller of the event's aggregate: named by its
        first event."""
        key = notification.originator_id
        if key not in self._organisations:
            state = notification.state
            topic = notification.topic
            if notification.originator_version != 1:
                first = recorder.select_events(key, limit=1)
                state = first[0].state if first else b"{}"
                topic = first[0].topic if first else ""
            if len(self._organisations) >= _KNOWN_ORGANISATIONS:
                self._organisations.clear()
            self._organisations[key] = organisations_of(topic, state, self._stored)
        return self._organisations[key]


class _Merge:
    """Merges the heads of several logs by event time, a buffered batch per log.

    A log with nothing more to read is "drained"; it is asked again whenever another log's
    next batch is read, so a busy log does not hide a quiet one's new events for long.
    """

    def __init__(self, cursors: dict[str, int]) -> None:
        self.cursors = cursors
        self._buffers: dict[str, deque[_Read]] = {name: deque() for name in cursors}
        self._drained: set[str] = set()
        self._finished: set[str] = set()

    def to_fill(self) -> list[str]:
        return [
            n
            for n, b in self._buffers.items()
            if not b and n not in self._drained and n not in self._finished
        ]

    def filled(self, name: str, found: list[_Read], finished: bool = False) -> None:
        if finished:
            self._finished.add(name)
        if found:
            self._buffers[name].extend(found)
            self._drained.clear()
        else:
            self._drained.add(name)

    def poll_again(self) -> None:
        self._drained.clear()

    def pop(self) -> tuple[str, _Read] | None:
        ready = [name for name, buffer in self._buffers.items() if buffer]
        if not ready:
            return None
        name = min(ready, key=lambda n: _merge_key(n, self._buffers[n][0]))
        read = self._buffers[name].popleft()
        self.cursors[name] = read.notification.id
        return name, read


def organisations_of(topic: str, state: bytes, stored: StoredFormat) -> tuple[str, str]:
    """(asking organisation, caller) as the stored state holds them. A refusal stored before
    ``Rejected`` version 3 names no caller; if it was an ``ORGANISATION_MISMATCH``, its
    asking organisation was the one claimed, so it is filed under none (as the upcast does)."""
    asking = stored.text(state, "asking_organisation")
    caller = stored.optional_text(state, "caller")
    if caller is None and event_type(topic) == "Query.Rejected":
        mismatch = stored.enum_value(state, "reason") == "ORGANISATION_MISMATCH"
        return ("" if mismatch else asking), ""
    if caller is None:
        return asking, asking if event_type(topic) == "Query.Received" else ""
    return asking, caller


def _merge_key(name: str, read: _Read) -> tuple[dt.datetime, str, int]:
    stamp = read.timestamp or dt.datetime.min.replace(tzinfo=dt.UTC)
    return stamp, name, read.notification.id


def _replayed(name: str, read: _Read) -> ReplayedEvent:
    notification = read.notification
    return ReplayedEvent(
        application=name,
        position=notification.id,
        topic=notification.topic,
        originator_id=originator_text(notification.originator_id),
        originator_version=notification.originator_version,
        timestamp=read.timestamp,
        state=notification.state.decode("utf-8", errors="replace"),
    )
