"""``Registrations``: which aggregates an application has created, read from its own log.

An event-sourced application cannot "select all incidents"; it can read its notification
log. The ``Created`` events of one kind, filtered by topic in the database, are an index
that costs no extra event: this class reads them incrementally (only notifications after
the last one it saw), so listing and the scheduled deadline check stay cheap and see what
another process of the service has registered.

Each registration keeps its position in the log. ``page`` lists newest first and resumes
strictly before a position: a registration's position never changes and a new one always
gets a higher position, so a page never shifts or repeats when others register meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.utils import get_topic

from application.log_reader import pages

_PAGE = 500
T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """Up to a page of items, newest first, and where the next page starts."""

    items: list[T]
    next_before: int | None
    """Pass as ``before`` for the next page; ``None`` on the last page."""


class Registrations:
    """The creation events of the given classes, in the order they were recorded."""

    def __init__(
        self, recorder: ApplicationRecorder, mapper: Mapper[UUID], created: Sequence[type[Any]]
    ) -> None:
        self._recorder = recorder
        self._mapper = mapper
        self._topics = [get_topic(cls) for cls in created]
        self._last = 0
        self._events: dict[UUID, Any] = {}
        self._positions: dict[UUID, int] = {}
        self._lock = threading.Lock()

    def refresh(self) -> list[Any]:
        """Read what was registered since the last call; returns the new creation events."""
        with self._lock:
            new: list[Any] = []
            for page in pages(self._recorder, after=self._last, limit=_PAGE, topics=self._topics):
                for notification in page:
                    event = self._mapper.to_domain_event(notification)
                    self._events[event.originator_id] = event
                    self._positions[event.originator_id] = notification.id
                    new.append(event)
                    self._last = notification.id
            return new

    def ids(self, kind: type[Any] | None = None) -> list[UUID]:
        """Every id registered so far (oldest first), of one creation event class if given."""
        self.refresh()
        with self._lock:
            return [
                aggregate_id
                for aggregate_id, event in self._events.items()
                if kind is None or isinstance(event, kind)
            ]

    def page(
        self,
        load: Callable[[UUID], T | None],
        *,
        limit: int,
        before: int | None = None,
        kind: type[Any] | None = None,
    ) -> Page[T]:
        """Newest first, only registrations before position ``before``, at most ``limit`` items.

        ``load`` reads one registered aggregate, or returns ``None`` to leave it out (a filter).
        """
        self.refresh()
        with self._lock:
            positioned = [
                (position, aggregate_id)
                for aggregate_id, position in self._positions.items()
                if (before is None or position < before)
                and (kind is None or isinstance(self._events[aggregate_id], kind))
            ]
        items: list[T] = []
        last = None
        for position, aggregate_id in sorted(positioned, reverse=True):
            item = load(aggregate_id)
            if item is None:
                continue
            if len(items) == limit:
                return Page(items, last)
            items.append(item)
            last = position
        return Page(items, None)

    def created(self, aggregate_id: UUID) -> Any | None:
        with self._lock:
            return self._events.get(aggregate_id)
