"""History at scale: what a user feels after months of traffic, at growing history sizes.

For each size in ``history_sizes`` (events) a fresh store gets that much realistic history
(``bench.history``: the Swedish opening hours, the month-end peak, refusals, partial answers,
one outage a month), sealed by the product's own ``AuditSeals``, with the followers'
tracking records where a running service leaves them. Then, each timed once (wall time,
one process; the first read of a cold table is in it):

- **recovery** at a restart: before (ADR 0027), a new process read the whole Queries log from
  position 0 (``Recovery`` without tracking); after, it reads from its tracking record;
- **incidents follower** and **sealer round** after a restart, over the traffic that came
  in meanwhile (``RESTART_EVENTS``), and a sealer round with nothing new;
- **monthly report** of the history's last month (``AuditTrail.report``, what ``ssbtek report
  monthly`` and ``GetReport`` call);
- **replay** of the busiest organisation's events of that month, with the time seek and
  (up to ``REPLAY_BEFORE_LIMIT`` events) without it (the former full read); then the index
  of positions by organisation built over the whole history once, and the same replay
  through it (checked to give the same positions; ADR 27);
- **verify**: the whole Queries log against its seals, and resumed from the anchor the
  full verification printed (``verify --anchor ... --from-anchor``);
- **disk**: the Queries table and its indexes (PostgreSQL: ``pg_table_size`` and
  ``pg_indexes_size``; SQLite: the file), per event and per query;
- **ssbtek serve start-up** (PostgreSQL): the product command on the store, until it logs
  that it serves and until its first recovery round is done, without and with the
  recovery's tracking record.

Nothing here asserts a speed; the README's table is written from the JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Final

import attrs

from application.audit.replay import ReplayFilter
from application.audit.replay_index import IndexedPosition
from application.audit.report import MARGIN
from application.audit.report_model import Month
from application.audit.report_projection import TRACKING_NAME as REPORT_TRACKING
from application.audit.report_projection import CountedMonthlyReports, ReportCountsFollower
from application.audit.seals import SEGMENT_LIMIT
from application.audit.verdict import SealAnchor
from application.log_reader import first_position_at_or_after
from application.queries import Queries
from application.recovery import TRACKING_NAME, Recovery
from bench import audit_rows, history, pg, procs, servers
from bench.audit_rows import Template
from bench.config import Context
from bench.scenarios.failure import Failure, attempt
from infrastructure.composition import (
    Audit,
    build_audit,
    build_position_index,
    build_replay,
    build_replay_indexer,
    build_service_management,
    monthly_reports,
    report_counts_view,
    stored_format,
)
from infrastructure.settings import Settings, Store

log = logging.getLogger("bench")
RESTART_EVENTS: Final = 600
"""Traffic that arrives while a node restarts: about four peak minutes at 5 M queries a year."""
REPLAY_BEFORE_LIMIT: Final = 1_200_000
"""The former replay (every event read) is timed only up to this history size: it grows
linearly, two points show the slope, and beyond it takes minutes."""
MONTHS: Final = 12
TYPICAL: Final = 9
"""The tenth busiest of the 290 organisations (about a sixth of the busiest one's traffic)."""
_RECOVERED = re.compile(r"recovery caught up")
_SERVING = re.compile(r"serving on")


@attrs.frozen
class HistoryPoint:
    store: str
    events: int
    queries: int
    generate_s: float
    initial_seal_s: float
    table_bytes: int
    index_bytes: int
    bytes_per_event: float
    bytes_per_query: float
    recovery_untracked_s: float | None
    recovery_untracked_read: int
    recovery_tracked_s: float
    recovery_tracked_read: int
    incidents_restart_s: float
    seal_round_s: float
    seal_idle_s: float
    report_s: float
    report_month_queries: int
    replay_s: float
    replay_events: int
    replay_before_s: float | None
    verify_full_s: float | None
    verify_resumed_s: float
    verify_resumed_events: int
    report_catch_up_s: float | None = None
    """The report projection's first catch-up over the whole history (once, ADR 27)."""
    report_counted_s: float | None = None
    """The same monthly report from the projection's counters (and the events after them)."""
    report_counted_source: str = ""
    report_identical: bool | None = None
    """The report from the counters equals the report from the events (but where each read to)."""
    report_round_s: float | None = None
    """A projection round over the traffic that came in while the node was down."""
    index_build_s: float | None = None
    """Indexing the whole history by organisation, once (ADR 27)."""
    replay_indexed_s: float | None = None
    """The same replay as ``replay_s``, through the index (same events, checked)."""
    index_table_bytes: int | None = None
    replay_indexed_again_s: float | None = None
    """The same indexed replay once more (its events cached)."""
    replay_typical_s: float | None = None
    """Through the index, the month of the organisation ranked ``TYPICAL`` + 1 by traffic."""
    replay_typical_events: int | None = None
    serve_ready_untracked_s: float | None = None
    serve_recovered_untracked_s: float | None = None
    serve_ready_tracked_s: float | None = None
    serve_recovered_tracked_s: float | None = None
    report_catch_up_events: int | None = None
    """Events the projection's first catch-up read (fewer with ``catch_up_months``)."""
    index_build_events: int | None = None
    catch_up_from: int = 0
    """The position the projection and the index started after (0: the whole history)."""
    skipped_before: bool = False
    """The "before" operations were not run (``before_upto``): whole verify, recovery
    without its record, ``ssbtek serve`` without it; the anchor came from the stored seals."""
    cpu_s: dict[str, float] = attrs.field(factory=dict)
    """CPU seconds of the measuring process per operation (PostgreSQL's own CPU not included)."""


def _timed(cpu: dict[str, float], name: str, action: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of ``action`` and its result; its CPU seconds in this process into ``cpu``
    (the machine may be shared: the CPU time is the steadier figure)."""
    began, began_cpu = time.perf_counter(), time.process_time()
    result = action()
    cpu[name] = round(time.process_time() - began_cpu, 3)
    return round(time.perf_counter() - began, 3), result


@contextmanager
def _store(
    ctx: Context, store: Store, size: int, db_prefix: str = "ssbtek_bench"
) -> Iterator[tuple[Settings, str | None]]:
    if store is Store.POSTGRES:
        with pg.temporary_database(ctx.pg, f"history{size}", prefix=db_prefix) as dbname:
            yield audit_rows.settings(ctx, store, dbname=dbname), dbname
    else:
        data_dir = Path(tempfile.mkdtemp(prefix=f"history{size}-", dir=ctx.workdir))
        try:
            yield audit_rows.settings(ctx, store, data_dir=data_dir), None
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


def _index_disk(ctx: Context, dbname: str | None) -> int | None:
    """PostgreSQL: the index of positions by organisation, table and indexes."""
    if dbname is None:
        return None
    with ctx.pg.connect(dbname) as connection:
        connection.execute("VACUUM ANALYZE queries_events_by_organisation")
        row = connection.execute(
            "SELECT pg_total_relation_size('queries_events_by_organisation')"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _disk(ctx: Context, settings: Settings, dbname: str | None) -> tuple[int, int]:
    if dbname is not None:
        with ctx.pg.connect(dbname) as connection:
            connection.execute("VACUUM ANALYZE queries_events")
            row = connection.execute(
                "SELECT pg_table_size('queries_events'), pg_indexes_size('queries_events')"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
    path = settings.sqlite_file("queries")
    return path.stat().st_size, 0  # SQLite: one file, table and indexes together


def _restart_traffic(app: Queries, shapes: history.Shapes, events: int) -> None:
    """``events`` more events, of queries received now (what comes in during a restart)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    batch: list[tuple[uuid.UUID, int, str, bytes]] = []
    while len(batch) < events:
        query = history.GeneratedQuery(now, history.busiest_organisation(), "ok", 1500)
        batch.extend(history.rows(shapes, query))
    from eventsourcing.persistence import StoredEvent

    app.recorder.insert_events([StoredEvent(o, v, t, s) for o, v, t, s in batch])


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds ``pid`` has used so far (user and system, with its waited-for children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return round(ticks / os.sysconf("SC_CLK_TCK"), 2)


def _serve(
    ctx: Context,
    settings: Settings,
    dbname: str,
    scratch: Path,
    cpu: tuple[dict[str, float], str] | None = None,
) -> tuple[float | None, float | None]:
    """``ssbtek serve`` on the store: seconds until it serves, and until recovery caught up
    (its CPU seconds until then into ``cpu``: a dictionary and the key)."""
    spec = servers.ServerSpec(kind="service", store="postgres", via="cli")
    port = procs.free_port()
    env = servers._environment(spec, ctx, port, scratch, dbname)
    env["SSBTEK_DATA_DIR"] = str(settings.data_dir)
    log_path = scratch / f"serve-{time.monotonic_ns()}.log"
    began = time.perf_counter()
    process = procs.spawn(
        servers._argv(spec, 0),
        cpus=procs.all_cpus(),
        env=env,
        log_path=log_path,
        cwd=ctx.root,
    )
    ready = recovered = None
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and recovered is None:
            text = log_path.read_text(errors="replace") if log_path.exists() else ""
            now = round(time.perf_counter() - began, 3)
            if ready is None and _SERVING.search(text):
                ready = now
            if _RECOVERED.search(text):
                recovered = now
                used = _cpu_seconds(process.pid)
                if cpu is not None and used is not None:
                    cpu[0][cpu[1]] = used
            if process.poll() is not None:
                raise RuntimeError(f"ssbtek serve stopped:\n{procs.tail(log_path)}")
            time.sleep(0.05)
    finally:
        procs.stop(process)
    return ready, recovered


def _forget_recovery_mark(ctx: Context, dbname: str) -> None:
    with ctx.pg.connect(dbname) as connection:
        connection.execute(
            "DELETE FROM queries_tracking WHERE application_name = %s", (TRACKING_NAME,)
        )


def _latest_anchor(audit: Audit, events: int) -> SealAnchor | None:
    """The anchor a full verification would print: the latest stored seal (read from near
    the end of the chain, as ``--from-anchor`` reads it; its seal is checked when resumed)."""
    for from_sequence in (max(0, events // SEGMENT_LIMIT - 3), 0):
        for stored in reversed(audit.seals.stored_seals("queries", from_sequence=from_sequence)):
            if stored.content is not None:
                content = stored.content
                return SealAnchor(
                    "queries", content.sequence, content.last_position, content.seal_hash().hex()
                )
    return None


def _catch_up_from(queries: Queries, plan: history.Plan, months: int | None) -> int:
    """Where the projection and the index start: 0 (the whole history), or the last
    position before the first day of the ``months``-th month before the last one (less the
    readers' margin), so that month and every later one is counted whole."""
    if months is None:
        return 0
    year, month = plan.last_month()
    index = year * 12 + month - 1 - months
    start, _ = history.month_bounds(index // 12, index % 12 + 1)
    first = first_position_at_or_after(queries.recorder, start - MARGIN, stored_format())
    return max(0, first - 1)


def _point(
    ctx: Context,
    template: Template,
    store: Store,
    size: int,
    *,
    before_upto: int | None = None,
    catch_up_months: int | None = None,
    db_prefix: str = "ssbtek_bench",
) -> HistoryPoint:
    """One history size, measured. ``before_upto``: above this size the "before" operations
    (the design until ADR 27: whole verify, recovery and ``ssbtek serve`` without the
    recovery's record; they grow linearly and were measured at 1 M and 5 M) are not run.
    ``catch_up_months``: the report projection's and the index's one-time first catch-up
    start that many months before the last month instead of at position 0 (their rate per
    event is measured; the whole catch-up is that rate times the history)."""
    with _store(ctx, store, size, db_prefix) as (settings, dbname):
        settings = attrs.evolve(settings, audit=attrs.evolve(settings.audit, seal_interval_s=3600))
        queries = audit_rows.queries(settings)
        shapes = history.shapes(template, queries)
        plan = history.Plan(events=size, months=MONTHS)
        cpu: dict[str, float] = {}
        clock = queries.recovery._clock
        if dbname is not None:
            generate_s, _ = _timed(
                cpu,
                "generate",
                lambda: history.copy_into_postgres(ctx.pg.conninfo(dbname), shapes, plan),
            )
        else:
            generate_s, _ = _timed(
                cpu, "generate", lambda: history.insert_through_recorder(queries, shapes, plan)
            )
        events = queries.recorder.max_notification_id() or 0
        log.info(
            "history %s %d: %d events written in %.0f s", store.value, size, events, generate_s
        )
        management = build_service_management(settings, clock=clock, queries=queries)
        audit = build_audit(settings, clock=clock, applications={"queries": queries})
        try:
            initial_seal_s, _ = _timed(
                cpu, "initial_seal", lambda: audit.seals.seal("queries", queries.recorder)
            )
            from eventsourcing.persistence import Tracking

            if events:
                management.incidents.recorder.insert_tracking(Tracking(queries.name, events))
            skip_before = before_upto is not None and size > before_upto
            untracked = Recovery(queries, clock, grace=dt.timedelta(seconds=30))
            recovery_untracked_s = verify_full_s = None
            if skip_before:
                # every generated query is closed: the mark a running service leaves (its
                # first round puts it at the head, as measured at 5 M)
                tracking = queries.recovery._tracking
                if tracking is not None and events:
                    tracking.insert_tracking(Tracking(TRACKING_NAME, events))
                anchor = _latest_anchor(audit, events)
            else:
                recovery_untracked_s, _ = _timed(
                    cpu, "recovery_untracked", untracked.close_abandoned
                )
                queries.close_abandoned()  # the service's own round: records its mark
                verify_full_s, verdict = _timed(
                    cpu, "verify_full", lambda: audit.trail.verify(["queries"])
                )
                anchor = verdict.chains[0].latest_seal  # type: ignore[attr-defined]
            table_bytes, index_bytes = _disk(ctx, settings, dbname)
            query_count = max(1, round(events / history.EVENTS_PER_QUERY))

            catch_up_from = _catch_up_from(queries, plan, catch_up_months)
            view = report_counts_view(queries)
            follower = ReportCountsFollower(queries, view) if view is not None else None
            catch_up_s = catch_up_events = None
            if follower is not None:
                if catch_up_from and view is not None:
                    view.record([], 0, Tracking(REPORT_TRACKING, catch_up_from))
                catch_up_s, catch_up_events = _timed(cpu, "report_catch_up", follower.catch_up)

            _restart_traffic(queries, shapes, RESTART_EVENTS)  # a node was down meanwhile
            restarted = audit_rows.queries(settings)
            try:
                recovery_tracked_s, _ = _timed(cpu, "recovery_tracked", restarted.close_abandoned)
                tracked_read = restarted.recovery.read_last_round
            finally:
                restarted.close()
            incidents_restart_s, _ = _timed(
                cpu, "incidents_restart", management.incidents.process_queries
            )
            seal_round_s, _ = _timed(
                cpu, "seal_round", lambda: audit.seals.seal("queries", queries.recorder)
            )
            seal_idle_s, _ = _timed(
                cpu, "seal_idle", lambda: audit.seals.seal("queries", queries.recorder)
            )
            anchors = [anchor] if anchor is not None else []
            verify_resumed_s, resumed = _timed(
                cpu, "verify_resumed", lambda: audit.trail.verify(["queries"], anchors, resume=True)
            )
            year, month = plan.last_month()
            report_s, report = _timed(cpu, "report", lambda: audit.trail.report(Month(year, month)))
            counted_s = counted_source = identical = round_s = None
            counted = monthly_reports({"queries": queries}, None, clock, view)
            if isinstance(counted, CountedMonthlyReports) and follower is not None:
                counted_s, by_counters = _timed(
                    cpu, "report_counted", lambda: counted.build(Month(year, month))
                )
                counted_source = counted.last_source
                identical = (
                    attrs.evolve(
                        by_counters,  # type: ignore[misc]
                        read_through=report.read_through,  # type: ignore[attr-defined]
                        made_at=report.made_at,  # type: ignore[attr-defined]
                    )
                    == report
                )
                round_s, _ = _timed(cpu, "report_round", follower.catch_up)
            start, end = history.month_bounds(year, month)
            chosen = ReplayFilter(
                applications=frozenset({"queries"}),
                since=start,
                until=end,
                asking_organisations=frozenset({history.busiest_organisation()}),
            )
            logs = {"queries": queries.recorder}
            replay_s, replayed = _timed(
                cpu, "replay", lambda: [e.position for e in build_replay(logs).events(chosen)]
            )
            replay_count = len(replayed)  # type: ignore[arg-type]
            index = build_position_index(queries.recorder, create=True)
            indexer = build_replay_indexer(queries.recorder, index)
            assert index is not None
            assert indexer is not None
            if catch_up_from:
                # the index's rows are its own tracking: one row at the start position (no
                # organisation matches it) makes the indexer start after it
                index.record([IndexedPosition(catch_up_from, "", "")])
            index_build_s, index_build_events = _timed(cpu, "index_build", indexer.catch_up)
            indexes = {"queries": index}
            replay_indexed_s, replayed_indexed = _timed(
                cpu,
                "replay_indexed",
                lambda: [e.position for e in build_replay(logs, indexes=indexes).events(chosen)],
            )
            if replayed_indexed != replayed:
                raise AssertionError("the indexed replay differs from reading every event")
            # again, the events now in PostgreSQL's and the system's caches
            replay_indexed_again_s, _ = _timed(
                cpu,
                "replay_indexed_again",
                lambda: sum(1 for _ in build_replay(logs, indexes=indexes).events(chosen)),
            )
            typical = attrs.evolve(
                chosen, asking_organisations=frozenset({history.ORGANISATION_NUMBERS[TYPICAL]})
            )
            replay_typical_s, typical_count = _timed(
                cpu,
                "replay_typical",
                lambda: sum(1 for _ in build_replay(logs, indexes=indexes).events(typical)),
            )
            index_table_bytes = _index_disk(ctx, dbname)
            replay_before_s = None
            if events <= REPLAY_BEFORE_LIMIT:
                replay_before_s, _ = _timed(
                    cpu,
                    "replay_before",
                    lambda: sum(1 for _ in build_replay(logs, seek=False).events(chosen)),
                )
        finally:
            audit.close()
            management.close()
            queries.close()
        point = HistoryPoint(
            store=store.value,
            events=events,
            queries=query_count,
            generate_s=round(generate_s, 1),
            initial_seal_s=initial_seal_s,
            table_bytes=table_bytes,
            index_bytes=index_bytes,
            bytes_per_event=round((table_bytes + index_bytes) / max(1, events), 1),
            bytes_per_query=round((table_bytes + index_bytes) / query_count, 1),
            recovery_untracked_s=recovery_untracked_s,
            recovery_untracked_read=untracked.read_last_round,
            recovery_tracked_s=recovery_tracked_s,
            recovery_tracked_read=tracked_read,
            incidents_restart_s=incidents_restart_s,
            seal_round_s=seal_round_s,
            seal_idle_s=seal_idle_s,
            report_s=report_s,
            report_month_queries=_received(report),
            replay_s=replay_s,
            replay_events=replay_count,
            index_build_s=index_build_s,
            replay_indexed_s=replay_indexed_s,
            replay_indexed_again_s=replay_indexed_again_s,
            replay_typical_s=replay_typical_s,
            replay_typical_events=typical_count,  # type: ignore[arg-type]
            index_table_bytes=index_table_bytes,
            replay_before_s=replay_before_s,
            verify_full_s=verify_full_s,
            verify_resumed_s=verify_resumed_s,
            verify_resumed_events=resumed.chains[0].events,  # type: ignore[attr-defined]
            report_catch_up_s=catch_up_s,
            report_counted_s=counted_s,
            report_counted_source=counted_source or "",
            report_identical=identical,
            report_round_s=round_s,
            report_catch_up_events=catch_up_events,  # type: ignore[arg-type]
            index_build_events=index_build_events,  # type: ignore[arg-type]
            catch_up_from=catch_up_from,
            skipped_before=skip_before,
            cpu_s=cpu,
        )
        if dbname is not None and skip_before:
            scratch = Path(tempfile.mkdtemp(prefix="history-serve-", dir=ctx.workdir))
            ready_t, recovered_t = _serve(
                ctx, settings, dbname, scratch, (point.cpu_s, "serve_recovered_tracked")
            )
            point = attrs.evolve(
                point, serve_ready_tracked_s=ready_t, serve_recovered_tracked_s=recovered_t
            )
        elif dbname is not None:
            scratch = Path(tempfile.mkdtemp(prefix="history-serve-", dir=ctx.workdir))
            _forget_recovery_mark(ctx, dbname)
            ready_u, recovered_u = _serve(
                ctx, settings, dbname, scratch, (point.cpu_s, "serve_recovered_untracked")
            )
            ready_t, recovered_t = _serve(
                ctx, settings, dbname, scratch, (point.cpu_s, "serve_recovered_tracked")
            )
            point = attrs.evolve(
                point,
                serve_ready_untracked_s=ready_u,
                serve_recovered_untracked_s=recovered_u,
                serve_ready_tracked_s=ready_t,
                serve_recovered_tracked_s=recovered_t,
            )
        log.info("history %s %d: %s", store.value, size, point)
        return point


def _received(report: object) -> int:
    usage = getattr(report, "usage", None)
    return int(getattr(usage, "queries", 0) or 0)


def run(ctx: Context, template: Template) -> list[HistoryPoint | Failure]:
    found: list[HistoryPoint | Failure] = []
    for store, sizes in (
        (Store.POSTGRES, ctx.profile.history_sizes),
        (Store.SQLITE, ctx.profile.history_sqlite_sizes),
    ):
        for size in sizes:
            point = partial(_point, ctx, template, store, size)
            found.append(attempt(f"history {store.value} {size}", point))
    return found


def main() -> None:
    """``python -m bench.scenarios.history SIZE [STORE]``: one point, printed (for a quick look)."""
    import argparse
    import json
    import sys

    from bench.config import QUICK

    parser = argparse.ArgumentParser(prog="python -m bench.scenarios.history")
    parser.add_argument("size", type=int, help="events of history")
    parser.add_argument("store", nargs="?", default=Store.POSTGRES.value)
    parser.add_argument(
        "--before-upto",
        type=int,
        default=None,
        help="above this many events, skip the 'before' operations (whole verify, recovery"
        " and ssbtek serve without the recovery's record)",
    )
    parser.add_argument(
        "--catch-up-months",
        type=int,
        default=None,
        help="start the report projection's and the index's first catch-up this many months"
        " before the last month instead of at position 0 (their rate is measured)",
    )
    parser.add_argument("--db-prefix", default="ssbtek_bench", help="the database's name prefix")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    workdir = Path(tempfile.mkdtemp(prefix="history-"))
    try:
        ctx = Context(QUICK, workdir, pg.PgServer())
        point = _point(
            ctx,
            audit_rows.capture(ctx),
            Store(args.store),
            args.size,
            before_upto=args.before_upto,
            catch_up_months=args.catch_up_months,
            db_prefix=args.db_prefix,
        )
        sys.stdout.write(json.dumps(attrs.asdict(point), indent=1) + "\n")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
