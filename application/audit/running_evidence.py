"""When the service was running, read from its own records (``ServiceRuns``; ADR 0012).

Each process's run is a series of records about a minute apart: started, still up, ...,
stopped. Two records of a run at most ``GAP_FACTOR`` heartbeats apart show it running in
between; a longer silence is no evidence (the process hung, or could not write). A run
with no ``Stopped`` whose last record is that recent is still running now; otherwise it
ended without notice at its last record. Several processes (workers, nodes) each keep
their own run: the service was running whenever any one of them was.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import Final
from uuid import UUID

import attrs
from eventsourcing.utils import get_topic

from application.audit.ports import EventLog
from application.log_reader import StoredFormat, first_position_at_or_after, notifications
from domain.running.service_run import HEARTBEAT_S, ServiceRun

GAP_FACTOR: Final = 2.5
"""A silence longer than this many heartbeats is a gap in the evidence."""
MARGIN: Final = dt.timedelta(days=1)
_STARTED: Final = get_topic(ServiceRun.Started)
_STOPPED: Final = get_topic(ServiceRun.Stopped)
_READ: Final = frozenset({_STARTED, _STOPPED, get_topic(ServiceRun.StillUp)})


class RunEnd(enum.Enum):
    STOPPED = "stopped"
    """The process recorded its stop."""
    SILENT = "no sign of life"
    """The records end (the process died or hung, or could not write) or pause."""
    RUNNING = "still running"


@attrs.frozen
class UpInterval:
    """A stretch of time one process was shown running."""

    start: dt.datetime
    end: dt.datetime
    node: str
    worker: int
    ended: RunEnd


@attrs.frozen
class RunningEvidence:
    first_record: dt.datetime | None
    """The first record of running time the store holds: nothing is known before it."""
    intervals: tuple[UpInterval, ...]
    read_through: int


@attrs.define
class _Run:
    node: str = ""
    worker: int = 0
    heartbeat_s: int = HEARTBEAT_S
    times: list[dt.datetime] = attrs.field(factory=list)
    stopped: bool = False


def read_running_evidence(
    log: EventLog, start: dt.datetime, end: dt.datetime, now: dt.datetime, *, stored: StoredFormat
) -> RunningEvidence:
    """The up intervals overlapping ``[start, end)``, as the records show them at ``now``."""
    recorder = log.recorder
    first = recorder.select_notifications(1, 1)
    first_record = stored.timestamp(first[0].state) if first else None
    position = first_position_at_or_after(recorder, start - MARGIN, stored)
    read_through = position - 1
    runs: dict[UUID, _Run] = {}
    for notification in notifications(recorder, after=position - 1):
        stamp = stored.timestamp(notification.state)
        if stamp is not None and stamp >= end + MARGIN:
            break
        read_through = notification.id
        if notification.topic not in _READ or stamp is None:
            continue
        run_id = UUID(str(notification.originator_id))
        run = runs.get(run_id)
        if run is None:
            run = runs[run_id] = _started(log, run_id)
        run.times.append(stamp)
        run.stopped = run.stopped or notification.topic == _STOPPED
    intervals = [interval for run in runs.values() for interval in _intervals(run, now)]
    return RunningEvidence(
        first_record=first_record,
        intervals=tuple(sorted(intervals, key=lambda i: (i.start, i.node, i.worker))),
        read_through=read_through,
    )


def _started(log: EventLog, run_id: UUID) -> _Run:
    """The run's node, worker and heartbeat, from its first event (read even when it was
    stored before the window)."""
    stored = log.recorder.select_events(run_id, lte=1)
    if not stored:
        return _Run()
    event = log.mapper.to_domain_event(stored[0])
    if not isinstance(event, ServiceRun.Started):
        return _Run()
    return _Run(node=event.node, worker=event.worker, heartbeat_s=event.heartbeat_s)


def _intervals(run: _Run, now: dt.datetime) -> list[UpInterval]:
    gap = dt.timedelta(seconds=run.heartbeat_s * GAP_FACTOR)
    times = sorted(run.times)
    found: list[UpInterval] = []
    start = previous = times[0]
    for moment in times[1:]:
        if moment - previous > gap:
            found.append(UpInterval(start, previous, run.node, run.worker, RunEnd.SILENT))
            start = moment
        previous = moment
    if run.stopped:
        found.append(UpInterval(start, previous, run.node, run.worker, RunEnd.STOPPED))
    elif now - previous <= gap:
        found.append(UpInterval(start, max(now, previous), run.node, run.worker, RunEnd.RUNNING))
    else:
        found.append(UpInterval(start, previous, run.node, run.worker, RunEnd.SILENT))
    return found


def merged(intervals: Sequence[UpInterval]) -> list[tuple[dt.datetime, dt.datetime, RunEnd]]:
    """The union of the intervals, each piece with how its last process ended."""
    pieces: list[tuple[dt.datetime, dt.datetime, RunEnd]] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if pieces and interval.start <= pieces[-1][1]:
            start, end, _ = pieces[-1]
            if interval.end >= end:
                pieces[-1] = (start, interval.end, interval.ended)
            continue
        pieces.append((interval.start, interval.end, interval.ended))
    return pieces
