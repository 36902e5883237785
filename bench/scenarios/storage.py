"""The storage limit: how many queries' audit trails per second the store can take.

The rows are the ones one real query wrote (``bench.audit_rows.capture``: 4 events);
every "query" below writes a copy of them under a new originator id in ONE transaction
(the saga's single save of ADR 6; one variant writes them as the saga now does, in two:
``Received`` before the fan-out, the rest after). Each variant gets a fresh database and runs for
``storage_s`` seconds (or ``storage_max_queries``), with 1 and with several threads.

- ``raw psycopg``: ``INSERT`` of the same rows into a table shaped like
  ``queries_events`` (same columns, primary key and ``notification_id`` index), one
  ``executemany`` per transaction, one connection per thread. The ceiling.
- ``event store (service settings)``: the ``Queries`` application's own recorder,
  ``insert_events`` (which also takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` and sends a
  ``NOTIFY`` per transaction, so that notification ids are committed in order).
- event-store options of the eventsourcing library (``POSTGRES_ENABLE_DB_FUNCTIONS``: one
  call of a PL/pgSQL function instead of a pipelined statement series;
  ``POSTGRES_PRE_PING=n``: no connection check at checkout) and, clearly a what-if,
  ``synchronous_commit=off`` (a crash may lose the last commits; L4 keeps it on).
- SQLite: the service's SQLite event store, for reference.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import attrs
import psycopg

from bench import audit_rows, pg
from bench.audit_rows import Template
from bench.config import Context
from bench.scenarios.failure import Failure, attempt
from bench.stats import Latency
from infrastructure.settings import Store

log = logging.getLogger("bench")

_RAW_TABLE = """
CREATE TABLE raw_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX raw_events_notification_id ON raw_events (notification_id);
"""
_RAW_INSERT = (
    "INSERT INTO raw_events (originator_id, originator_version, topic, state) "
    "VALUES (%s, %s, %s, %s)"
)

WriteOne = Callable[[], object]
"""Writes one query's rows in one transaction."""


@attrs.frozen
class StorageResult:
    variant: str
    store: str
    threads: int
    queries: int
    seconds: float
    queries_per_s: float
    events_per_s: float
    transaction: Latency
    vs_event_store: float | None = None
    """This variant's rate over the event store's (service settings, same threads)."""


class _Budget:
    """Shared among threads: stop after ``limit`` queries or at ``deadline``."""

    def __init__(self, limit: int, seconds: float) -> None:
        self._lock = threading.Lock()
        self._left = limit
        self.deadline = time.monotonic() + seconds

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0 or time.monotonic() >= self.deadline:
                return False
            self._left -= 1
            return True


def _drive(
    make_writer: Callable[[], WriteOne], threads: int, ctx: Context
) -> tuple[int, float, list[float]]:
    budget = _Budget(ctx.profile.storage_max_queries, ctx.profile.storage_s)
    durations: list[list[float]] = [[] for _ in range(threads)]

    def worker(index: int) -> None:
        write = make_writer()
        while budget.take():
            began = time.perf_counter()
            write()
            durations[index].append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(worker, index) for index in range(threads)]:
            future.result()
    elapsed = time.perf_counter() - began
    flat = [d for per_thread in durations for d in per_thread]
    return len(flat), elapsed, flat


def _result(
    variant: str,
    store: str,
    threads: int,
    template: Template,
    measured: tuple[int, float, list[float]],
) -> StorageResult:
    count, seconds, durations = measured
    rate = count / seconds if seconds > 0 else 0.0
    log.info("storage %s x%d: %.0f queries/s", variant, threads, rate)
    return StorageResult(
        variant=variant,
        store=store,
        threads=threads,
        queries=count,
        seconds=round(seconds, 3),
        queries_per_s=round(rate, 1),
        events_per_s=round(rate * len(template.rows), 1),
        transaction=Latency.of(durations),
    )


def _raw(ctx: Context, template: Template, threads: int, synchronous_commit: str) -> StorageResult:
    with pg.temporary_database(ctx.pg, "raw") as dbname:
        with ctx.pg.connect(dbname) as connection:
            connection.execute(_RAW_TABLE)
        pg.set_synchronous_commit(ctx.pg, dbname, synchronous_commit)
        connections: list[psycopg.Connection] = []

        def make_writer() -> WriteOne:
            connection = ctx.pg.connect(dbname, autocommit=False)
            connections.append(connection)

            def write() -> None:
                originator = uuid.uuid4()
                rows = [(originator, r.originator_version, r.topic, r.state) for r in template.rows]
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.executemany(_RAW_INSERT, rows)

            return write

        try:
            measured = _drive(make_writer, threads, ctx)
        finally:
            for connection in connections:
                connection.close()
    variant = "raw psycopg INSERT" + (
        "" if synchronous_commit == "on" else ", synchronous_commit=off"
    )
    return _result(variant, "postgres", threads, template, measured)


@attrs.frozen
class Variant:
    name: str
    extra_env: Mapping[str, str] = attrs.field(factory=dict)
    synchronous_commit: str = "on"
    received_first: bool = False
    """Two transactions per query, ``Received`` first, as the saga now saves them."""


def _event_store(ctx: Context, template: Template, threads: int, variant: Variant) -> StorageResult:
    with pg.temporary_database(ctx.pg, "store") as dbname:
        pg.set_synchronous_commit(ctx.pg, dbname, variant.synchronous_commit)
        settings = audit_rows.settings(ctx, Store.POSTGRES, dbname=dbname)
        recorder = audit_rows.recorder(settings, variant.extra_env)
        try:

            def write() -> None:
                events = template.stored_events()
                if variant.received_first:
                    recorder.insert_events(events[:1])
                    recorder.insert_events(events[1:])
                else:
                    recorder.insert_events(events)

            def make_writer() -> WriteOne:
                return write

            measured = _drive(make_writer, threads, ctx)
        finally:
            datastore = getattr(recorder, "datastore", None)
            if datastore is not None:
                datastore.close()
    return _result(variant.name, "postgres", threads, template, measured)


def _sqlite(ctx: Context, template: Template, threads: int) -> StorageResult:
    data_dir = Path(ctx.workdir) / f"sqlite-storage-{threads}"
    settings = audit_rows.settings(ctx, Store.SQLITE, data_dir=data_dir)
    recorder = audit_rows.recorder(settings, {})

    def make_writer() -> WriteOne:
        return lambda: recorder.insert_events(template.stored_events())

    measured = _drive(make_writer, threads, ctx)
    return _result(SERVICE_SETTINGS, "sqlite", threads, template, measured)


SERVICE_SETTINGS = "event store (service settings)"
_EVENT_STORE_VARIANTS = (
    Variant(SERVICE_SETTINGS),
    Variant(
        "event store, as the saga saves: Received, then the rest (2 transactions)",
        received_first=True,
    ),
    Variant("event store, POSTGRES_ENABLE_DB_FUNCTIONS=y", {"POSTGRES_ENABLE_DB_FUNCTIONS": "y"}),
    Variant("event store, POSTGRES_PRE_PING=n", {"POSTGRES_PRE_PING": "n"}),
    Variant(
        "event store, ENABLE_DB_FUNCTIONS=y and PRE_PING=n",
        {"POSTGRES_ENABLE_DB_FUNCTIONS": "y", "POSTGRES_PRE_PING": "n"},
    ),
    Variant("event store, synchronous_commit=off (what-if)", synchronous_commit="off"),
)


def run(ctx: Context, template: Template) -> list[StorageResult | Failure]:
    found: list[StorageResult | Failure] = []
    for threads in ctx.profile.storage_threads:
        found.append(attempt("raw", partial(_raw, ctx, template, threads, "on")))
        found.append(attempt("raw, off", partial(_raw, ctx, template, threads, "off")))
        for variant in _EVENT_STORE_VARIANTS:
            measure = partial(_event_store, ctx, template, threads, variant)
            found.append(attempt(variant.name, measure))
        found.append(attempt("sqlite", partial(_sqlite, ctx, template, threads)))
    return _relative(found)


def _relative(found: list[StorageResult | Failure]) -> list[StorageResult | Failure]:
    base = {
        r.threads: r.queries_per_s
        for r in found
        if isinstance(r, StorageResult) and r.store == "postgres" and r.variant == SERVICE_SETTINGS
    }
    return [
        attrs.evolve(r, vs_event_store=round(r.queries_per_s / base[r.threads], 2))
        if isinstance(r, StorageResult) and base.get(r.threads)
        else r
        for r in found
    ]
