"""The ``PlannedChange`` aggregate: a service window for planned work (Bilaga 4 § 3.5.2-3.5.5).

Planned changes outside releases are communicated at least 4 weeks before the change
(§ 3.5.5); all plannable work happens outside the service's opening hours (§ 3.5.2); and
time by which a window is overrun counts as unavailability (§ 3.5.2). Nothing personal:
a change is known by an opaque reference into the operator's change records.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Final
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.business_hours import BusinessHours
from domain.clauses import RuleBrokenError
from domain.reference import stored_reference

NOTICE: Final = dt.timedelta(weeks=4)
CLAUSE_NOTICE: Final = "004 Bilaga 4 § 3.5.5"
CLAUSE_WINDOW: Final = "004 Bilaga 4 § 3.5.2"


class ChangeStatus(enum.Enum):
    ANNOUNCED = "ANNOUNCED"
    COMPLETED = "COMPLETED"


class PlannedChange(Aggregate):
    class Announced(Aggregate.Created):
        reference: str
        window_start: dt.datetime
        window_end: dt.datetime

        def apply(self, aggregate: PlannedChange) -> None:
            aggregate.reference = self.reference
            aggregate.window_start = self.window_start
            aggregate.window_end = self.window_end

    class Completed(Aggregate.Event):
        overrun_minutes: int
        overrun_opening_minutes: int

        def apply(self, aggregate: PlannedChange) -> None:
            aggregate.status = ChangeStatus.COMPLETED
            aggregate.completed_at = self.timestamp
            aggregate.overrun_minutes = self.overrun_minutes
            aggregate.overrun_opening_minutes = self.overrun_opening_minutes

    def __init__(self) -> None:
        self.status = ChangeStatus.ANNOUNCED
        self.reference = ""
        self.window_start = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.window_end = self.window_start
        self.completed_at: dt.datetime | None = None
        self.overrun_minutes = 0
        self.overrun_opening_minutes = 0

    @classmethod
    def announce(
        cls,
        *,
        change_id: UUID,
        reference: str,
        window_start: dt.datetime,
        window_end: dt.datetime,
        hours: BusinessHours,
        at: dt.datetime,
    ) -> PlannedChange:
        if window_end <= window_start:
            raise RuleBrokenError("a service window must end after it starts", CLAUSE_WINDOW)
        if window_start - at < NOTICE:
            raise RuleBrokenError(
                "a planned change must be announced at least 4 weeks ahead", CLAUSE_NOTICE
            )
        if hours.working_minutes_between(window_start, window_end) > 0:
            raise RuleBrokenError(
                "plannable work happens outside the service's opening hours", CLAUSE_WINDOW
            )
        return cls._create(
            cls.Announced,
            id=change_id,
            timestamp=at,
            reference=stored_reference("reference", reference),
            window_start=window_start,
            window_end=window_end,
        )

    def complete(self, *, hours: BusinessHours, at: dt.datetime) -> None:
        """The work is done; an overrun of the window is recorded as unavailability."""
        if self.status is not ChangeStatus.ANNOUNCED:
            raise RuleBrokenError("the change is already completed", CLAUSE_WINDOW)
        overrun = max(dt.timedelta(0), at - self.window_end)
        opening = hours.working_minutes_between(self.window_end, at) if overrun else 0
        self.trigger_event(
            self.Completed,
            timestamp=at,
            overrun_minutes=int(overrun.total_seconds() // 60),
            overrun_opening_minutes=opening,
        )

    @property
    def overran(self) -> bool:
        return self.overrun_minutes > 0
