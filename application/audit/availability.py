"""Availability within opening hours, minute by minute (004 Bilaga 4 § 3.8; ADR 0012).

An opening minute is **unavailable** when
- a query received in it got no answer at all (abandoned by a process that died, or still
  open) and nothing received in that minute was answered, not even with a refusal, or
- it overlaps an outage recorded outside the query log (``RecordedOutage``: a critical
  incident, a planned change, a period the store refused every query).
It is **available with disturbance** when it is available but a query received in it had
two or more providers that could not answer, or one of its queries was not answered.
Any other minute is available: without evidence of an outage the service is taken to work.

An outage is a run of unavailable minutes. It ends at the end of a recorded outage, or,
when its last minute was an unanswered one, at the next minute in which something was
answered (a refusal of an invalid or unauthorised request is an answer too). Opening
minutes without traffic and closed hours in between do not end it (no evidence that the
service came back), but are not counted as unavailable either. An outage is planned when
every minute of it is covered by a planned recorded outage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from application.audit.report_model import (
    AVAILABILITY_TARGET_PERCENT,
    MAX_UNPLANNED_OUTAGES,
    Availability,
    DayAvailability,
    Month,
    Outage,
)
from application.audit.report_sources import RecordedOutage
from domain.business_hours import BusinessHours

MINUTE: Final = dt.timedelta(minutes=1)
NO_ANSWER: Final = "queries received and none answered"


@attrs.define
class MinuteTraffic:
    """The queries received in one minute, by what became of them."""

    received: int = 0
    answered: int = 0
    unanswered: int = 0
    disturbed: int = 0
    refused: int = 0
    """Requests refused (invalid, not authorised, duplicate): answered, with a refusal."""

    @property
    def responded(self) -> bool:
        """Something received in this minute got an answer: the service was there."""
        return self.answered > 0 or self.refused > 0


@attrs.frozen
class _Minute:
    start: dt.datetime
    traffic: MinuteTraffic | None
    unavailable: bool
    planned: bool
    disturbed: bool
    evidence: tuple[str, ...]


def opening_minutes(month: Month, hours: BusinessHours) -> list[dt.datetime]:
    """Every opening minute of the month (aware, Stockholm time), in order."""
    minutes = []
    for day in month.days():
        if not hours.calendar.is_working_day(day):
            continue
        moment = dt.datetime.combine(day, hours.opens, tzinfo=hours.zone)
        closes = dt.datetime.combine(day, hours.closes, tzinfo=hours.zone)
        while moment < closes:
            minutes.append(moment)
            moment += MINUTE
    return minutes


def minute_of(moment: dt.datetime, hours: BusinessHours) -> dt.datetime:
    return moment.astimezone(hours.zone).replace(second=0, microsecond=0)


def availability(
    month: Month,
    hours: BusinessHours,
    traffic: Mapping[dt.datetime, MinuteTraffic],
    recorded: Sequence[RecordedOutage] | None,
) -> Availability:
    """The month's availability from per-minute traffic (keyed by ``minute_of``) and the
    outages recorded elsewhere (``None``: no such source is wired)."""
    minutes = [
        _classify(start, traffic.get(start), recorded or ())
        for start in opening_minutes(month, hours)
    ]
    opening = len(minutes)
    unavailable = sum(m.unavailable for m in minutes)
    outages = _outages(minutes)
    unplanned = sum(not outage.planned for outage in outages)
    percentage = 100.0 * (opening - unavailable) / opening if opening else None
    return Availability(
        opening_minutes=opening,
        available_minutes=opening - unavailable,
        unavailable_minutes=unavailable,
        planned_unavailable_minutes=sum(m.unavailable and m.planned for m in minutes),
        disturbed_minutes=sum(m.disturbed for m in minutes),
        percentage=percentage,
        target_met=None if percentage is None else percentage >= AVAILABILITY_TARGET_PERCENT,
        unplanned_outages=unplanned,
        reliability_met=unplanned <= MAX_UNPLANNED_OUTAGES,
        outages=tuple(outages),
        days=tuple(_days(minutes)),
        recorded_outages_source=recorded is not None,
    )


def _classify(
    start: dt.datetime, traffic: MinuteTraffic | None, recorded: Sequence[RecordedOutage]
) -> _Minute:
    end = start + MINUTE
    overlapping = [o for o in recorded if o.start < end and start < o.end]
    no_answer = traffic is not None and traffic.unanswered > 0 and not traffic.responded
    unavailable = no_answer or bool(overlapping)
    evidence = ([NO_ANSWER] if no_answer else []) + sorted(
        {f"recorded: {o.cause}" + (" (planned)" if o.planned else "") for o in overlapping}
    )
    disturbed = (
        not unavailable
        and traffic is not None
        and (traffic.disturbed > 0 or traffic.unanswered > 0)
    )
    return _Minute(
        start=start,
        traffic=traffic,
        unavailable=unavailable,
        planned=unavailable and not no_answer and all(o.planned for o in overlapping),
        disturbed=disturbed,
        evidence=tuple(evidence),
    )


def _outages(minutes: Sequence[_Minute]) -> list[Outage]:
    outages: list[Outage] = []
    run: list[_Minute] = []
    for minute in minutes:
        if minute.unavailable:
            run.append(minute)
            continue
        if not run:
            continue
        responded = minute.traffic is not None and minute.traffic.responded
        recorded_end = NO_ANSWER not in run[-1].evidence
        if responded or recorded_end:  # evidence that the service is back
            outages.append(_outage(run))
            run = []
    if run:
        outages.append(_outage(run))
    return outages


def _outage(run: Sequence[_Minute]) -> Outage:
    evidence = sorted({item for minute in run for item in minute.evidence})
    return Outage(
        start=run[0].start,
        end=run[-1].start + MINUTE,
        minutes=len(run),
        planned=all(minute.planned for minute in run),
        evidence=tuple(evidence),
    )


def _days(minutes: Sequence[_Minute]) -> list[DayAvailability]:
    days: dict[dt.date, list[_Minute]] = {}
    for minute in minutes:
        days.setdefault(minute.start.date(), []).append(minute)
    return [
        DayAvailability(
            day=day,
            opening_minutes=len(items),
            unavailable_minutes=sum(m.unavailable for m in items),
            disturbed_minutes=sum(m.disturbed for m in items),
        )
        for day, items in days.items()
    ]
