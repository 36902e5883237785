"""Availability within opening hours, minute by minute, from evidence only (§ 3.8; ADR 0012).

Each opening minute of the month is one of:
- **not yet happened**: it had not ended when the report was made;
- **no evidence**: before the service's first record of its running time (nothing is
  known of it: not measured);
- **not running**: no process of the service was shown running for most of it (stopped,
  or its records stopped) and nothing was answered in it;
- **up and failing**: running, but a query received in it got no answer at all and nothing
  in it was answered (not even with a refusal), or it overlaps an outage recorded outside
  the query log (a critical incident, an overrun planned change);
- **up and answering**: running, or something received in it was answered, and not
  failing. It is *available with disturbance* when a query in it had two or more providers
  that could not answer, or one of its queries got no answer.
The percentage is answering minutes of measured minutes (elapsed, with evidence); without a
measured minute there is no figure.

An outage is a run of unavailable (failing or not running) minutes. It ends at the next
answering minute, except after a minute whose evidence is only an unanswered query: then
it ends at the next minute in which something was answered, since silent minutes are no
evidence that the answers came back (they are not counted as unavailable either). An
outage is planned when every minute of it is covered by a planned recorded outage.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from application.audit.report_model import (
    AVAILABILITY_TARGET_PERCENT,
    MAX_UNPLANNED_OUTAGES,
    Availability,
    DayAvailability,
    EvidencePeriod,
    Month,
    Outage,
    ProcessRun,
)
from application.audit.report_sources import RecordedOutage
from application.audit.running_evidence import RunEnd, RunningEvidence, merged
from domain.business_hours import BusinessHours

MINUTE: Final = dt.timedelta(minutes=1)
HALF_MINUTE: Final = dt.timedelta(seconds=30)
NO_ANSWER: Final = "queries received and none answered"
_NOT_RUNNING: Final = "not running"


class MinuteState(enum.Enum):
    ANSWERING = "up and answering"
    FAILING = "up and failing"
    NOT_RUNNING = "not running"
    NO_EVIDENCE = "no evidence"
    NOT_YET = "not yet happened"


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
    state: MinuteState
    responded: bool
    planned: bool
    disturbed: bool
    evidence: tuple[str, ...]

    @property
    def unavailable(self) -> bool:
        return self.state in (MinuteState.FAILING, MinuteState.NOT_RUNNING)


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


@attrs.frozen
class _Coverage:
    """Seconds of each minute some process was shown running, and how the last run before
    an uncovered stretch ended."""

    up: dict[dt.datetime, dt.timedelta]
    pieces: list[tuple[dt.datetime, dt.datetime, RunEnd]]

    @classmethod
    def of(cls, evidence: RunningEvidence | None, hours: BusinessHours) -> _Coverage:
        pieces = merged(evidence.intervals) if evidence else []
        up: dict[dt.datetime, dt.timedelta] = {}
        for start, end, _ in pieces:
            moment = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
            while moment < end:
                overlap = min(end, moment + MINUTE) - max(start, moment)
                key = moment.astimezone(hours.zone)
                up[key] = up.get(key, dt.timedelta()) + overlap
                moment += MINUTE
        return cls(up, pieces)

    def running(self, minute: dt.datetime) -> bool:
        return self.up.get(minute, dt.timedelta()) >= HALF_MINUTE

    def why_not(self, minute: dt.datetime) -> str:
        before = [ended for _, end, ended in self.pieces if end <= minute + HALF_MINUTE]
        if not before:
            return f"{_NOT_RUNNING}: no record of running"
        return (
            f"{_NOT_RUNNING}: {'stopped' if before[-1] is RunEnd.STOPPED else RunEnd.SILENT.value}"
        )


def availability(
    month: Month,
    hours: BusinessHours,
    traffic: Mapping[dt.datetime, MinuteTraffic],
    recorded: Sequence[RecordedOutage] | None,
    running: RunningEvidence | None,
    now: dt.datetime,
) -> Availability:
    """The month's availability from per-minute traffic (keyed by ``minute_of``), the outages
    recorded elsewhere (``None``: no such source is wired) and the service's records of its
    running time (``None``: no such log), as known at ``now``."""
    period = _evidence_period(month, running, now)
    coverage = _Coverage.of(running, hours)
    minutes = [
        _classify(start, traffic.get(start), recorded or (), coverage, period, now)
        for start in opening_minutes(month, hours)
    ]
    count = {state: sum(m.state is state for m in minutes) for state in MinuteState}
    measured = count[MinuteState.ANSWERING] + count[MinuteState.FAILING]
    measured += count[MinuteState.NOT_RUNNING]
    outages = _outages(minutes)
    unplanned = sum(not outage.planned for outage in outages)
    percentage = 100.0 * count[MinuteState.ANSWERING] / measured if measured else None
    return Availability(
        opening_minutes=len(minutes),
        measured_minutes=measured,
        available_minutes=count[MinuteState.ANSWERING],
        unavailable_minutes=count[MinuteState.FAILING] + count[MinuteState.NOT_RUNNING],
        failing_minutes=count[MinuteState.FAILING],
        not_running_minutes=count[MinuteState.NOT_RUNNING],
        no_evidence_minutes=count[MinuteState.NO_EVIDENCE],
        not_yet_minutes=count[MinuteState.NOT_YET],
        planned_unavailable_minutes=sum(m.unavailable and m.planned for m in minutes),
        disturbed_minutes=sum(m.disturbed for m in minutes),
        percentage=percentage,
        target_met=None if percentage is None else percentage >= AVAILABILITY_TARGET_PERCENT,
        unplanned_outages=unplanned,
        reliability_met=unplanned <= MAX_UNPLANNED_OUTAGES if measured else None,
        outages=tuple(outages),
        days=tuple(_days(minutes)),
        recorded_outages_source=recorded is not None,
        evidence=period,
        runs=_runs(month, running),
    )


def _evidence_period(
    month: Month, running: RunningEvidence | None, now: dt.datetime
) -> EvidencePeriod | None:
    if running is None or running.first_record is None:
        return None
    start = max(month.start, running.first_record)  # a minute begun before it: no evidence
    end = min(month.end, now)
    return EvidencePeriod(start, end) if start < end else None


def _classify(
    start: dt.datetime,
    traffic: MinuteTraffic | None,
    recorded: Sequence[RecordedOutage],
    coverage: _Coverage,
    period: EvidencePeriod | None,
    now: dt.datetime,
) -> _Minute:
    end = start + MINUTE
    if end > now:
        return _Minute(start, MinuteState.NOT_YET, False, False, False, ())
    if period is None or start < period.start:
        return _Minute(start, MinuteState.NO_EVIDENCE, False, False, False, ())
    responded = traffic is not None and traffic.responded
    overlapping = [o for o in recorded if o.start < end and start < o.end]
    no_answer = traffic is not None and traffic.unanswered > 0 and not responded
    evidence = ([NO_ANSWER] if no_answer else []) + sorted(
        {f"recorded: {o.cause}" + (" (planned)" if o.planned else "") for o in overlapping}
    )
    planned = bool(overlapping) and not no_answer and all(o.planned for o in overlapping)
    if not (responded or coverage.running(start)):
        return _Minute(
            start,
            MinuteState.NOT_RUNNING,
            False,
            planned,
            False,
            (coverage.why_not(start), *evidence),
        )
    if no_answer or overlapping:
        return _Minute(start, MinuteState.FAILING, responded, planned, False, tuple(evidence))
    disturbed = traffic is not None and (traffic.disturbed > 0 or traffic.unanswered > 0)
    return _Minute(start, MinuteState.ANSWERING, responded, False, disturbed, ())


def _outages(minutes: Sequence[_Minute]) -> list[Outage]:
    outages: list[Outage] = []
    run: list[_Minute] = []
    for minute in minutes:
        if minute.unavailable:
            run.append(minute)
            continue
        if not run or minute.state is not MinuteState.ANSWERING:
            continue  # not measured: no evidence either way
        only_unanswered = run[-1].evidence == (NO_ANSWER,)
        if minute.responded or not only_unanswered:  # evidence that the service is back
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

    def count(items: Sequence[_Minute], state: MinuteState) -> int:
        return sum(m.state is state for m in items)

    return [
        DayAvailability(
            day=day,
            opening_minutes=len(items),
            answering_minutes=count(items, MinuteState.ANSWERING),
            failing_minutes=count(items, MinuteState.FAILING),
            not_running_minutes=count(items, MinuteState.NOT_RUNNING),
            no_evidence_minutes=count(items, MinuteState.NO_EVIDENCE),
            not_yet_minutes=count(items, MinuteState.NOT_YET),
            disturbed_minutes=sum(m.disturbed for m in items),
        )
        for day, items in days.items()
    ]


def _runs(month: Month, running: RunningEvidence | None) -> tuple[ProcessRun, ...]:
    if running is None:
        return ()
    return tuple(
        ProcessRun(i.node, i.worker, i.start, i.end, i.ended.value)
        for i in running.intervals
        if i.start < month.end and i.end >= month.start
    )
