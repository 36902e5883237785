"""Planned changes (service windows) at the single point of contact, in the Incidents store.

Announce a window at least 4 weeks ahead and outside opening hours; complete it; an
overrun is recorded as unavailability (004 Bilaga 4 § 3.5.2, § 3.5.5). The monthly report
reads the ``PlannedChange`` events for its "Changes" section.
"""

from __future__ import annotations

import datetime as dt
import uuid
from uuid import UUID

from application.incidents import Incidents, reported_rules
from application.registrations import Page, Registrations
from domain.incident.planned_change import PlannedChange


class PlannedChanges:
    def __init__(self, incidents: Incidents) -> None:
        self._incidents = incidents
        self._registrations = Registrations(
            incidents.recorder, incidents.mapper, [PlannedChange.Announced]
        )

    def announce(
        self, reference: str, window_start: dt.datetime, window_end: dt.datetime
    ) -> PlannedChange:
        with reported_rules():
            change = PlannedChange.announce(
                change_id=uuid.uuid4(),
                reference=reference,
                window_start=window_start,
                window_end=window_end,
                hours=self._incidents.hours,
                at=self._incidents.clock.now(),
            )
        self._incidents.save_aggregate(change)
        return change

    def complete(self, change_id: UUID) -> PlannedChange:
        change = self.get(change_id)
        with reported_rules():
            change.complete(hours=self._incidents.hours, at=self._incidents.clock.now())
        self._incidents.save_aggregate(change)
        return change

    def get(self, change_id: UUID) -> PlannedChange:
        return self._incidents.get_aggregate(change_id, PlannedChange)

    def list(self, *, limit: int = 100) -> list[PlannedChange]:
        """Newest first."""
        return self.page(limit=limit).items

    def page(self, *, limit: int = 100, before: int | None = None) -> Page[PlannedChange]:
        """One page of ``list``: newest first, announced before position ``before``."""
        return self._registrations.page(self.get, limit=limit, before=before)
