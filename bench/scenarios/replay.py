"""Audit replay: how fast an auditor can read the whole audit trail back, in order.

Seeding: copies of one real query's rows (``bench.audit_rows``), each under a new
originator id, are written through the ``Queries`` application's own recorder
(``recorder.insert_events``) in batches of ``SEED_BATCH_QUERIES`` queries per call (one
transaction each), until ``replay_events`` events are stored: a fresh SQLite file and a
fresh PostgreSQL database. The seeding rate is reported too (it is a bulk rate, not the
one-query-per-transaction rate of the storage scenario).

Reading, from the first notification to the last:
- ``recorder.select_notifications(start, limit=1000)`` pages: raw events per second;
- the same plus ``mapper.to_domain_event`` for every event: decoded events per second;
- ``notification_log.select(start, limit=10)`` (the application's notification log, whose
  sections hold 10) over the first ``replay_log_pages_events`` events;
- read and verified: every event read in pages and hashed into the audit hash chain
  (``domain.audit.chain``), what ``ssbtek audit verify`` does per event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import attrs

from application.queries import Queries
from bench import audit_rows, pg
from bench.audit_rows import Template
from bench.config import Context
from bench.scenarios.failure import Failure, attempt
from domain.audit.chain import chain_step, genesis, link_digest
from infrastructure.settings import Store

log = logging.getLogger("bench")
SEED_BATCH_QUERIES = 500
READ_PAGE = 1000
LOG_SECTION = 10


@attrs.frozen
class ReplayResult:
    store: str
    events: int
    seed_events_per_s: float
    read_events_per_s: float
    decode_events_per_s: float
    log_section_events_per_s: float
    log_section_events: int
    verify_events_per_s: float = 0.0
    """Read in pages and recompute every event's link and chain digest (ADR 11)."""


def _seed(app: Queries, template: Template, events: int) -> float:
    per_query = len(template.rows)
    queries = -(-events // per_query)
    began = time.perf_counter()
    written = 0
    while written < queries:
        batch = min(SEED_BATCH_QUERIES, queries - written)
        app.recorder.insert_events(
            [event for _ in range(batch) for event in template.stored_events()]
        )
        written += batch
    return written * per_query / (time.perf_counter() - began)


def _read(app: Queries, *, decode: bool) -> tuple[int, float]:
    began = time.perf_counter()
    count = 0
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=READ_PAGE)
        if not page:
            break
        if decode:
            for notification in page:
                app.mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id + 1
    return count, count / (time.perf_counter() - began)


def _read_and_verify(app: Queries) -> tuple[int, float]:
    """What ``ssbtek audit verify`` does per event: read it, hash it into the chain."""
    began = time.perf_counter()
    count = 0
    start = 1
    digest = genesis(app.name.lower())
    while True:
        page = app.recorder.select_notifications(start=start, limit=READ_PAGE)
        if not page:
            break
        for n in page:
            link = link_digest(n.topic, str(n.originator_id), n.originator_version, n.state)
            digest = chain_step(digest, n.id, link)
        count += len(page)
        start = page[-1].id + 1
    return count, count / (time.perf_counter() - began)


def _read_log_sections(app: Queries, limit_events: int) -> tuple[int, float]:
    began = time.perf_counter()
    count = 0
    start = 1
    while count < limit_events:
        section = app.notification_log.select(start, LOG_SECTION)
        if not section:
            break
        count += len(section)
        start = section[-1].id + 1
    return count, count / (time.perf_counter() - began)


@contextmanager
def _store(ctx: Context, store: Store) -> Iterator[Queries]:
    if store is Store.POSTGRES:
        with pg.temporary_database(ctx.pg, "replay") as dbname:
            app = audit_rows.queries(audit_rows.settings(ctx, store, dbname=dbname))
            try:
                yield app
            finally:
                app.close()
    else:
        data_dir = Path(ctx.workdir) / "replay-sqlite"
        app = audit_rows.queries(audit_rows.settings(ctx, store, data_dir=data_dir))
        try:
            yield app
        finally:
            app.close()


def _replay(ctx: Context, template: Template, store: Store) -> ReplayResult:
    with _store(ctx, store) as app:
        seed_rate = _seed(app, template, ctx.profile.replay_events)
        log.info("replay %s: seeded at %.0f events/s", store.value, seed_rate)
        events, read_rate = _read(app, decode=False)
        _, decode_rate = _read(app, decode=True)
        section_events, section_rate = _read_log_sections(app, ctx.profile.replay_log_pages_events)
        _, verify_rate = _read_and_verify(app)
    log.info(
        "replay %s: %d events, read %.0f/s, decoded %.0f/s",
        store.value,
        events,
        read_rate,
        decode_rate,
    )
    return ReplayResult(
        store=store.value,
        events=events,
        seed_events_per_s=round(seed_rate, 1),
        read_events_per_s=round(read_rate, 1),
        decode_events_per_s=round(decode_rate, 1),
        log_section_events_per_s=round(section_rate, 1),
        log_section_events=section_events,
        verify_events_per_s=round(verify_rate, 1),
    )


def run(ctx: Context, template: Template) -> list[ReplayResult | Failure]:
    return [
        attempt(f"replay {store.value}", partial(_replay, ctx, template, store))
        for store in (Store.SQLITE, Store.POSTGRES)
    ]
