"""A year (or N months) of audit history, written straight into a store in bulk.

The rows are the product's own: one real query run through the ``Queries`` application
(``bench.audit_rows.capture``: ``Received``, ``Compiled``, ``Delivered``, ``CaseDataErased``)
and the refusal, cancellation and abandonment events made by the domain and encoded by the
application's own mapper. Each generated query is a copy of those rows with its own
originator id, organisation, times, elapsed time and provider outcomes; the JSON is
rendered from pre-split templates (no per-row ``json.dumps``), so millions of rows take
about a minute.

The traffic (no personal data anywhere: the caseworker pseudonym is a constant):
- opening hours of the Swedish calendar, Monday-Friday 08:00-17:00 Stockholm time, no
  weekends or public holidays (``domain.calendar``), busier mid-morning and mid-afternoon;
- the month-end peak of 004 Bilaga 4 § 2.3: from the 20th to the month's end each day
  carries ``PEAK_FACTOR`` times the traffic of an earlier day;
- 290 municipalities (§ 3.6.1), a few large and many small (Zipf-like weights);
- the mix: ``REFUSED`` refused before any provider was asked (one ``Rejected`` event),
  ``PARTIAL`` one provider failed (time-out), ``CANCELLED`` the caller left, and once a month
  an unplanned outage of ``OUTAGE_MINUTES`` in opening hours: every provider failing
  (answered with errors) and some queries abandoned by a dead process;
- ``elapsed_ms`` log-normal around 1.5 s, about 2 % beyond the 7 s line.

Written in position order (each query's rows together, queries by time). On PostgreSQL
with ``COPY ... FROM STDIN (FORMAT BINARY)`` into ``queries_events``; on SQLite through the
application's own recorder (``insert_events``) in large transactions. Then sealed by the
product's own ``AuditSeals`` (a valid hash chain and signed seals), and the followers'
tracking records are set where a running service would have left them (at the head).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import attrs
import psycopg
from eventsourcing.persistence import StoredEvent

from application.queries import Queries
from bench.audit_rows import Template
from domain.providers import STOCKHOLM
from domain.query.aggregate import CancelReason, Query, RejectionReason
from domain.query.values import ErrorSource, OutcomeKind
from infrastructure.composition import working_hours

ORGANISATIONS: Final = 290
PEAK_FROM_DAY: Final = 20
PEAK_FACTOR: Final = 1.6
REFUSED: Final = 0.02
PARTIAL: Final = 0.05
CANCELLED: Final = 0.005
OUTAGE_MINUTES: Final = 90
OUTAGE_ABANDONED: Final = 0.3
"""Of the queries in an outage, those whose process died (``Received`` then ``Abandoned``)."""
EVENTS_PER_QUERY: Final = 3.94
"""About, with the mix above: used to turn an event count into a query count."""
COPY_BATCH: Final = 50_000
SQLITE_BATCH: Final = 20_000
_SENTINEL = re.compile(r"(@[A-Z0-9]+@)")


def _organisations(count: int = ORGANISATIONS) -> tuple[list[str], list[float]]:
    numbers = [f"21200{index:05d}" for index in range(count)]
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(count)]
    return numbers, weights


ORGANISATION_NUMBERS, ORGANISATION_WEIGHTS = _organisations()


def busiest_organisation() -> str:
    """The organisation with the most queries (the replay scenario's choice)."""
    return ORGANISATION_NUMBERS[0]


class _Rendered:
    """A JSON state with ``@NAME@`` sentinels, split once, joined per row."""

    def __init__(self, state: dict[str, object], ints: Sequence[str] = ()) -> None:
        text = json.dumps(state, separators=(",", ":"))
        for name in ints:  # numbers: the sentinel loses its quotes
            text = text.replace(f'"@{name}@"', f"@{name}@")
        self._parts = _SENTINEL.split(text)

    def render(self, values: dict[str, str]) -> bytes:
        return "".join(values.get(part, part) for part in self._parts).encode()


def _stamp(state: dict[str, object], key: str, sentinel: str) -> None:
    value = state[key]
    if isinstance(value, dict):
        value["_data_"] = sentinel
    else:
        state[key] = sentinel


@attrs.frozen
class Shapes:
    """The rendered templates of every kind of row a generated query writes."""

    received: _Rendered
    compiled_ok: _Rendered
    compiled_partial: _Rendered
    compiled_outage: _Rendered
    delivered: _Rendered
    erased: _Rendered
    rejected: _Rendered
    cancelled: _Rendered
    abandoned: _Rendered
    topics: dict[str, str]


def shapes(template: Template, app: Queries) -> Shapes:
    """The templates: from the captured rows, and from domain events encoded by ``app``."""
    rows = {row.topic.rpartition(".")[2]: json.loads(row.state) for row in template.rows}
    topics = {row.topic.rpartition(".")[2]: row.topic for row in template.rows}
    received = rows["Received"]
    _stamp(received, "timestamp", "@T0@")
    _stamp(received, "deadline", "@DL@")
    received["asking_organisation"] = "@ORG@"
    received["caseworker_pseudonym"] = "0" * 32
    compiled = rows["Compiled"]
    _stamp(compiled, "timestamp", "@T1@")
    error: dict[str, object] = {  # an outcome as the cattrs transcoding writes it
        "subject_index": 0,
        "kind": OutcomeKind.ERROR.value,
        "latency_ms": 7000,
        "error_source": ErrorSource.SSBT.value,
        "error_code": "TIMEOUT",
    }
    partial = json.loads(json.dumps(compiled))
    outage = json.loads(json.dumps(compiled))
    _fail(partial, error, 1)
    _fail(outage, error, len(outage["calls"]))
    delivered = rows["Delivered"]
    _stamp(delivered, "timestamp", "@T1@")
    delivered["elapsed_ms"] = "@MS@"
    erased = rows["CaseDataErased"]
    _stamp(erased, "timestamp", "@T1@")
    at = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    refused = Query.reject(
        query_id=uuid.uuid4(),
        asking_organisation="@ORG@",
        reason=RejectionReason.CASEWORKER_UNKNOWN,
        fields=[],
        at=at,
    )
    rejected_event = refused.collect_events()[0]
    rejected_stored = app.mapper.to_stored_event(rejected_event)
    rejected = json.loads(rejected_stored.state)
    _stamp(rejected, "timestamp", "@T0@")
    topics["Rejected"] = rejected_stored.topic
    closing: dict[str, dict[str, object]] = {}
    for name, event in (
        ("Cancelled", Query.Cancelled),
        ("Abandoned", Query.Abandoned),
    ):
        topics[name] = event.__module__ + ":" + event.__qualname__
        closing[name] = {"timestamp": {"_type_": "datetime_iso", "_data_": "@T1@"}}
    closing["Cancelled"]["reason"] = json.loads(
        app.mapper.transcoder.encode(CancelReason.DEADLINE_EXCEEDED)
    )
    closing["Abandoned"]["reason"] = "PROCESS_ENDED"
    return Shapes(
        received=_Rendered(received),
        compiled_ok=_Rendered(compiled),
        compiled_partial=_Rendered(partial),
        compiled_outage=_Rendered(outage),
        delivered=_Rendered(delivered, ints=("MS",)),
        erased=_Rendered(erased),
        rejected=_Rendered(rejected),
        cancelled=_Rendered(closing["Cancelled"]),
        abandoned=_Rendered(closing["Abandoned"]),
        topics=topics,
    )


def _fail(compiled: dict[str, object], error: dict[str, object], providers: int) -> None:
    """Make the first ``providers`` providers' outcomes errors and fix the counts."""
    calls = compiled["calls"]
    assert isinstance(calls, list)
    for calls_of in calls[:providers]:
        outcomes = calls_of["_data_"]["outcomes"]
        for outcome in outcomes:
            kind = outcome["kind"]
            key = {"ANSWERED": "answered", "NO_DATA": "no_data", "CLOSED": "closed"}.get(
                kind["_data_"] if isinstance(kind, dict) else kind, ""
            )
            if key and isinstance(compiled.get(key), int):
                compiled[key] = int(compiled[key]) - 1  # type: ignore[call-overload]
            compiled["errors"] = int(compiled["errors"]) + 1  # type: ignore[call-overload]
            subject = outcome["subject_index"]
            outcome.clear()
            outcome.update(error, subject_index=subject)


# --- the traffic --------------------------------------------------------------------------


@attrs.frozen
class Plan:
    """What to generate: ``events`` (about) over the ``months`` before ``end``."""

    events: int
    months: int = 12
    end: dt.date = attrs.field(factory=lambda: dt.datetime.now(dt.UTC).date().replace(day=1))
    seed: int = 17

    def days(self) -> list[tuple[dt.date, float]]:
        """Every working day in the months, with its share of the traffic."""
        year, month = self.end.year, self.end.month
        start_index = year * 12 + month - 1 - self.months
        start = dt.date(start_index // 12, start_index % 12 + 1, 1)
        working = working_hours().calendar  # the service's own calendar
        days = []
        day = start
        while day < self.end:
            if working.is_working_day(day):
                days.append((day, PEAK_FACTOR if day.day >= PEAK_FROM_DAY else 1.0))
            day += dt.timedelta(days=1)
        return days

    def last_month(self) -> tuple[int, int]:
        previous = self.end - dt.timedelta(days=1)
        return previous.year, previous.month


_OPEN_MINUTES: Final = 9 * 60


def _minute_of_day(rng: random.Random) -> float:
    """Busier mid-morning and mid-afternoon, a dip at lunch: minutes after 08:00."""
    while True:
        minute = rng.uniform(0, _OPEN_MINUTES)
        hour = minute / 60
        weight = 0.6 + 0.4 * math.sin(math.pi * hour / 4.5) ** 2 - (0.3 if 3.8 < hour < 5 else 0)
        if rng.random() < weight:
            return minute


@attrs.frozen
class GeneratedQuery:
    received_at: dt.datetime
    organisation: str
    kind: str
    elapsed_ms: int


def queries(plan: Plan) -> Iterator[GeneratedQuery]:
    """The plan's queries in order of receipt."""
    rng = random.Random(plan.seed)  # noqa: S311 (a reproducible workload, not a secret)
    days = plan.days()
    total_weight = sum(weight for _, weight in days)
    count = plan.events / EVENTS_PER_QUERY
    outage_days: dict[tuple[int, int], list[dt.date]] = {}
    for day, _ in days:  # one outage a month, on a random working day, mid-morning
        outage_days.setdefault((day.year, day.month), [])
        outage_days[(day.year, day.month)].append(day)
    outages = {rng.choice(month_days): rng.uniform(60, 300) for month_days in outage_days.values()}
    carried = 0.0
    for day, weight in days:
        carried += count * weight / total_weight
        today = int(carried)
        carried -= today
        opening = dt.datetime.combine(day, dt.time(8), tzinfo=STOCKHOLM)
        minutes = sorted(_minute_of_day(rng) for _ in range(today))
        outage_at = outages.get(day)
        organisations = rng.choices(ORGANISATION_NUMBERS, ORGANISATION_WEIGHTS, k=today)
        for minute, organisation in zip(minutes, organisations, strict=True):
            received = (opening + dt.timedelta(minutes=minute)).astimezone(dt.UTC)
            elapsed = int(min(30_000, rng.lognormvariate(math.log(1500), 0.7)))
            draw = rng.random()
            if outage_at is not None and outage_at <= minute < outage_at + OUTAGE_MINUTES:
                kind = "abandoned" if draw < OUTAGE_ABANDONED else "outage"
                elapsed = 7000 + elapsed
            elif draw < REFUSED:
                kind = "refused"
            elif draw < REFUSED + PARTIAL:
                kind = "partial"
                elapsed += 7000
            elif draw < REFUSED + PARTIAL + CANCELLED:
                kind = "cancelled"
            else:
                kind = "ok"
            yield GeneratedQuery(received, organisation, kind, elapsed)


def rows(shapes_: Shapes, query: GeneratedQuery) -> list[tuple[uuid.UUID, int, str, bytes]]:
    """The stored rows of one generated query."""
    originator = uuid.uuid4()
    t0 = query.received_at
    t1 = t0 + dt.timedelta(milliseconds=query.elapsed_ms)
    values = {
        "@T0@": t0.isoformat(),
        "@T1@": t1.isoformat(),
        "@DL@": (t0 + dt.timedelta(seconds=7)).isoformat(),
        "@ORG@": query.organisation,
        "@MS@": str(query.elapsed_ms),
    }
    topics = shapes_.topics
    if query.kind == "refused":
        return [(originator, 1, topics["Rejected"], shapes_.rejected.render(values))]
    received = (originator, 1, topics["Received"], shapes_.received.render(values))
    if query.kind == "abandoned":
        values["@T1@"] = (t0 + dt.timedelta(seconds=60)).isoformat()
        return [received, (originator, 2, topics["Abandoned"], shapes_.abandoned.render(values))]
    if query.kind == "cancelled":
        return [received, (originator, 2, topics["Cancelled"], shapes_.cancelled.render(values))]
    compiled = {
        "ok": shapes_.compiled_ok,
        "partial": shapes_.compiled_partial,
        "outage": shapes_.compiled_outage,
    }[query.kind]
    return [
        received,
        (originator, 2, topics["Compiled"], compiled.render(values)),
        (originator, 3, topics["Delivered"], shapes_.delivered.render(values)),
        (originator, 4, topics["CaseDataErased"], shapes_.erased.render(values)),
    ]


# --- writing -------------------------------------------------------------------------------


def _batches(
    shapes_: Shapes, plan: Plan, size: int
) -> Iterator[list[tuple[uuid.UUID, int, str, bytes]]]:
    batch: list[tuple[uuid.UUID, int, str, bytes]] = []
    for query in queries(plan):
        batch.extend(rows(shapes_, query))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_into_postgres(
    conninfo: str,
    shapes_: Shapes,
    plan: Plan,
    *,
    table: str = "queries_events",
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """COPY the plan's rows into ``table`` (created by the application); rows written."""
    written = 0
    with psycopg.connect(conninfo, autocommit=False) as connection:
        for batch in _batches(shapes_, plan, COPY_BATCH):
            with (
                connection.cursor() as cursor,
                cursor.copy(
                    f"COPY {table} (originator_id, originator_version, topic, state) "
                    "FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for row in batch:
                    copy.write_row(row)
            connection.commit()
            written += len(batch)
            progress(written)
        connection.execute(f"ANALYZE {table}")
        connection.commit()
    return written


def insert_through_recorder(
    app: Queries, shapes_: Shapes, plan: Plan, *, progress: Callable[[int], None] = lambda _: None
) -> int:
    """The plan's rows through the application's own recorder (SQLite), in big batches."""
    written = 0
    for batch in _batches(shapes_, plan, SQLITE_BATCH):
        app.recorder.insert_events([StoredEvent(o, v, t, s) for o, v, t, s in batch])
        written += len(batch)
        progress(written)
    return written


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The month in Stockholm time, as the report counts it."""
    start = dt.datetime(year, month, 1, tzinfo=STOCKHOLM)
    days = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=days)


def timed(action: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result
