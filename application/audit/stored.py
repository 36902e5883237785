"""Reading an application's notification log: ranges in batches, links, and event times.

The library's recorders give every stored event a position (the notification id) in the
application's sequence; ``select_notifications`` reads them in that order. PostgreSQL may
leave gaps (a rolled-back insert), so nothing here assumes consecutive positions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Final
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

from domain.audit.chain import link_digest

BATCH: Final = 500
MARGIN: Final = dt.timedelta(days=1)
"""How far event times may run out of position order: an event is saved seconds after its
time, and nodes' clocks differ by less; readers that seek by time read this much more."""


def notifications(
    recorder: ApplicationRecorder,
    *,
    after: int = 0,
    upto: int | None = None,
    batch: int = BATCH,
    topics: Sequence[str] = (),
) -> Iterator[Notification]:
    """Every stored event with ``after < position <= upto`` (to the end when ``upto`` is None),
    only those of ``topics`` when given (filtered by the store: the library's
    ``select_notifications`` with topics)."""
    cursor = after
    while upto is None or cursor < upto:
        found = recorder.select_notifications(
            cursor, batch, stop=upto, topics=topics, inclusive_of_start=False
        )
        if not found:
            return
        yield from found
        cursor = found[-1].id
        if len(found) < batch:
            return


def originator_text(originator_id: UUID | str) -> str:
    """The originator id as the chain encodes it: a UUID in its canonical 36-character form."""
    return str(originator_id)


def link_of(notification: Notification) -> bytes:
    """The link digest of one stored event (``domain.audit.chain.link_digest``)."""
    return link_digest(
        notification.topic,
        originator_text(notification.originator_id),
        notification.originator_version,
        notification.state,
    )


def timestamp_of(state: bytes) -> dt.datetime | None:
    """The event's own timestamp, read from its stored JSON state.

    The library's JSON transcoder stores it as ``{"_type_": "datetime_iso", "_data_": ...}``.
    ``None`` when the state cannot be read that way (it is then shown, not interpreted).
    """
    try:
        stamp = json.loads(state)["timestamp"]
        text = stamp["_data_"] if isinstance(stamp, dict) else stamp
        moment = dt.datetime.fromisoformat(str(text))
    except (ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def first_position_at_or_after(recorder: ApplicationRecorder, moment: dt.datetime) -> int:
    """The smallest position whose event's timestamp is at or after ``moment``, by bisection.

    Assumes timestamps ascend with positions, which holds for the logs here up to the few
    seconds between an event's creation and its save; callers subtract a generous margin
    from ``moment`` first (ADR 0012). Returns one past the last position if none is.
    """
    last = recorder.max_notification_id() or 0
    low, high = 1, last + 1
    while low < high:
        middle = (low + high) // 2
        found = recorder.select_notifications(middle, 1)
        if not found:
            high = middle
            continue
        stamp = timestamp_of(found[0].state)
        if stamp is not None and stamp < moment:
            low = found[0].id + 1
        else:
            high = middle
    return low
