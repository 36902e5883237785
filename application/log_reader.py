"""Reading an application's notification log: the one place the service does it.

Every follower and every audit use case reads a log through these functions, on the
library's ``select_notifications`` (filtered by topic in the store when topics are given):
recovery and the registrations page by page from a position they keep, the seals and the
verification over ranges, the report and the replay from a position found by time.
PostgreSQL may leave gaps (a rolled-back insert), so nothing here assumes consecutive
positions.

What a stored event's state looks like (the library's JSON transcoder with its
``_type_``/``_data_`` envelopes) is not known here: the few fields read without decoding
the whole event (its time, the asking organisation) come through the ``StoredFormat``
port, whose adapter is ``adapters/persistence/stored_format.py`` (ADR 0027).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Final, Protocol

from eventsourcing.persistence import ApplicationRecorder, Notification

BATCH: Final = 500
MARGIN: Final = dt.timedelta(days=1)
"""How far event times may run out of position order: an event is saved seconds after its
time, and nodes' clocks differ by less; readers that seek by time read this much more."""


class StoredFormat(Protocol):
    """Reads single fields of a stored event's state without decoding the whole event."""

    def timestamp(self, state: bytes) -> dt.datetime | None:
        """The event's own time (aware); ``None`` when it cannot be read."""
        ...

    def text(self, state: bytes, field: str) -> str:
        """A top-level text field; ``""`` when it is absent or not text."""
        ...

    def optional_text(self, state: bytes, field: str) -> str | None:
        """A top-level text field; ``None`` when the event has no such field (an older
        version of the event), ``""`` when it is not text."""
        ...

    def enum_value(self, state: bytes, field: str) -> str:
        """The value of a top-level enum field; ``""`` when it is absent."""
        ...


def pages(
    recorder: ApplicationRecorder,
    *,
    after: int = 0,
    upto: int | None = None,
    limit: int = BATCH,
    topics: Sequence[str] = (),
) -> Iterator[list[Notification]]:
    """The stored events with ``after < position <= upto`` (to the end when ``upto`` is
    None), of ``topics`` when given, a page of at most ``limit`` at a time; the last page
    is shorter than ``limit`` (perhaps empty)."""
    cursor = after
    while upto is None or cursor < upto:
        found = list(
            recorder.select_notifications(
                cursor, limit, stop=upto, topics=topics, inclusive_of_start=False
            )
        )
        yield found
        if len(found) < limit:
            return
        cursor = found[-1].id


def notifications(
    recorder: ApplicationRecorder,
    *,
    after: int = 0,
    upto: int | None = None,
    batch: int = BATCH,
    topics: Sequence[str] = (),
) -> Iterator[Notification]:
    """Every stored event with ``after < position <= upto`` (to the end when ``upto`` is None),
    only those of ``topics`` when given."""
    for page in pages(recorder, after=after, upto=upto, limit=batch, topics=topics):
        yield from page


def first_position_at_or_after(
    recorder: ApplicationRecorder, moment: dt.datetime, stored: StoredFormat
) -> int:
    """The smallest position whose event's timestamp is at or after ``moment``, by bisection.

    Assumes timestamps ascend with positions, which holds for the logs here up to the few
    seconds between an event's creation and its save; callers subtract ``MARGIN`` from
    ``moment`` first (ADR 0012). Returns one past the last position if none is.
    """
    last = recorder.max_notification_id() or 0
    low, high = 1, last + 1
    while low < high:
        middle = (low + high) // 2
        found = recorder.select_notifications(middle, 1)
        if not found:
            high = middle
            continue
        stamp = stored.timestamp(found[0].state)
        if stamp is not None and stamp < moment:
            low = found[0].id + 1
        else:
            high = middle
    return low
