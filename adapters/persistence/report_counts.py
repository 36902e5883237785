"""The monthly report's counters on PostgreSQL and SQLite: the library's tracking recorder
plus three small tables, written in the transaction of the tracking record (ADR 27).

- ``report_counts``: (month, key) -> value, added to;
- ``report_moments``: (month, key) -> the first and last moment (microseconds), for the
  impersonation attempts' first and last time;
- ``report_query_facts``: per query, what the report needs of it (nothing personal: times,
  the asking organisation's number, subject count, outcome kinds, latencies, error sources).

The tracking record (``Queries.report``) sits in the recorder's own tracking table.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, ProgrammingError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from adapters.persistence.fencing import check_fence
from application.audit.report_counters import Change, MonthCounters, QueryFacts
from application.audit.report_model import Month
from application.audit.report_projection import (
    TRACKING_NAME,
    ProjectionMovedError,
    ProjectionUnavailableError,
    facts_from_json,
    facts_to_json,
)

_LOCK = 0x55B7E4_27  # the advisory lock that serialises writers of the counters (PostgreSQL)


def _merged(
    changes: Sequence[Change],
) -> tuple[
    dict[UUID, QueryFacts], Counter[tuple[str, str]], dict[tuple[str, str], tuple[int, int]]
]:
    facts: dict[UUID, QueryFacts] = {}
    counts: Counter[tuple[str, str]] = Counter()
    moments: dict[tuple[str, str], tuple[int, int]] = {}
    for change in changes:
        if change.query is not None and change.facts is not None:
            facts[change.query] = change.facts
        for month, deltas in change.deltas.items():
            for key, delta in deltas.items():
                counts[(str(month), key)] += delta
        for month, firsts in change.firsts.items():
            lasts = change.lasts.get(month, {})
            for key, first in firsts.items():
                last = lasts.get(key, first)
                old = moments.get((str(month), key))
                moments[(str(month), key)] = (
                    (min(old[0], first), max(old[1], last)) if old else (first, last)
                )
    return facts, counts, moments


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> tuple[list[object], ...]:
    """Rows as one list per column (for ``unnest``)."""
    return tuple([row[column] for row in rows] for column in range(width))


class PostgresReportCounts(PostgresTrackingRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, tracking_table_name="report_tracking", **kwargs)
        schema = Identifier(datastore.schema)
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.report_counts (month text, key text, "
                    "value bigint NOT NULL, PRIMARY KEY (month, key))"
                ).format(schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.report_moments (month text, key text, "
                    "first_at bigint NOT NULL, last_at bigint NOT NULL, PRIMARY KEY (month, key))"
                ).format(schema),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0}.report_query_facts "
                    "(query_id uuid PRIMARY KEY, month text NOT NULL, facts text NOT NULL)"
                ).format(schema),
            ]
        )
        self._schema = schema

    def _q(self, text: str) -> SQL | Any:
        return SQL(text).format(self._schema)

    def position(self) -> int:
        return self.max_tracking_id(TRACKING_NAME) or 0

    def facts_of(self, queries: Iterable[UUID]) -> dict[UUID, QueryFacts]:
        ids = list(queries)
        if not ids:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            return self._facts(curs, ids)

    def _facts(self, curs: Any, ids: list[UUID]) -> dict[UUID, QueryFacts]:
        curs.execute(
            self._q("SELECT query_id, facts FROM {0}.report_query_facts WHERE query_id = ANY(%s)"),
            (ids,),
        )
        return {row["query_id"]: facts_from_json(json.loads(row["facts"])) for row in curs}

    def snapshot(
        self, month: Month, referenced: Callable[[int], set[UUID]]
    ) -> tuple[int, MonthCounters, dict[UUID, QueryFacts]]:
        try:
            return self._snapshot(month, referenced)
        except ProgrammingError as error:  # the tables are missing
            raise ProjectionUnavailableError from error

    def _snapshot(
        self, month: Month, referenced: Callable[[int], set[UUID]]
    ) -> tuple[int, MonthCounters, dict[UUID, QueryFacts]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            position = self._max_tracking_id(TRACKING_NAME, curs) or 0
            counters = MonthCounters()
            curs.execute(
                self._q("SELECT key, value FROM {0}.report_counts WHERE month = %s"),
                (str(month),),
            )
            counters.counts = {row["key"]: row["value"] for row in curs}
            curs.execute(
                self._q("SELECT key, first_at, last_at FROM {0}.report_moments WHERE month = %s"),
                (str(month),),
            )
            for row in curs.fetchall():
                counters.firsts[row["key"]] = row["first_at"]
                counters.lasts[row["key"]] = row["last_at"]
            ids = list(referenced(position))
            facts = self._facts(curs, ids) if ids else {}
        return position, counters, facts

    def record(
        self,
        changes: Sequence[Change],
        after: int,
        tracking: Tracking,
        drop_before: Month | None = None,
    ) -> None:
        facts, counts, moments = _merged(changes)
        with self.datastore.transaction(commit=True) as curs:
            check_fence(curs)  # written as a background role: only by the lease's holder
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            if (self._max_tracking_id(TRACKING_NAME, curs) or 0) != after:
                raise ProjectionMovedError
            # one statement per table (arrays unnested), not one per row: the first catch-up
            # writes a page's thousands of counters at once
            if facts:
                rows = [(q, str(f.month), json.dumps(facts_to_json(f))) for q, f in facts.items()]
                curs.execute(
                    self._q(
                        "INSERT INTO {0}.report_query_facts "
                        "SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[]) "
                        "ON CONFLICT (query_id) DO UPDATE SET facts = EXCLUDED.facts"
                    ),
                    _columns(rows, 3),
                )
            if drop_before is not None:
                curs.execute(
                    self._q("DELETE FROM {0}.report_query_facts WHERE month < %s"),
                    (str(drop_before),),
                )
            added = [(month, key, delta) for (month, key), delta in counts.items() if delta]
            if added:
                curs.execute(
                    self._q(
                        "INSERT INTO {0}.report_counts "
                        "SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[]) "
                        "ON CONFLICT (month, key) DO UPDATE "
                        "SET value = {0}.report_counts.value + EXCLUDED.value"
                    ),
                    _columns(added, 3),
                )
            if moments:
                curs.execute(
                    self._q(
                        "INSERT INTO {0}.report_moments "
                        "SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::bigint[]) "
                        "ON CONFLICT (month, key) DO UPDATE SET "
                        "first_at = LEAST({0}.report_moments.first_at, EXCLUDED.first_at), "
                        "last_at = GREATEST({0}.report_moments.last_at, EXCLUDED.last_at)"
                    ),
                    _columns([(m, k, a, b) for (m, k), (a, b) in moments.items()], 4),
                )
            self._insert_tracking(curs, tracking)


class SQLiteReportCounts(SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS report_counts (month TEXT, key TEXT, "
            "value INTEGER NOT NULL, PRIMARY KEY (month, key)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS report_moments (month TEXT, key TEXT, "
            "first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, PRIMARY KEY (month, key)) "
            "WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS report_query_facts "
            "(query_id TEXT PRIMARY KEY, month TEXT NOT NULL, facts TEXT NOT NULL) WITHOUT ROWID",
        ]

    def position(self) -> int:
        return self.max_tracking_id(TRACKING_NAME) or 0

    def facts_of(self, queries: Iterable[UUID]) -> dict[UUID, QueryFacts]:
        ids = list(queries)
        if not ids:
            return {}
        with self.datastore.transaction(commit=False) as c:
            return self._facts(c, ids)

    def _facts(self, c: Any, ids: list[UUID]) -> dict[UUID, QueryFacts]:
        found: dict[UUID, QueryFacts] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            c.execute(
                "SELECT query_id, facts FROM report_query_facts WHERE query_id IN "  # noqa: S608
                f"({','.join('?' * len(chunk))})",  # placeholders only
                [query.hex for query in chunk],
            )
            for row in c.fetchall():
                found[UUID(row[0])] = facts_from_json(json.loads(row[1]))
        return found

    def snapshot(
        self, month: Month, referenced: Callable[[int], set[UUID]]
    ) -> tuple[int, MonthCounters, dict[UUID, QueryFacts]]:
        try:
            return self._snapshot(month, referenced)
        except OperationalError as error:  # no such table
            raise ProjectionUnavailableError from error

    def _snapshot(
        self, month: Month, referenced: Callable[[int], set[UUID]]
    ) -> tuple[int, MonthCounters, dict[UUID, QueryFacts]]:
        # One transaction of the one connection: SQLite reads it as one snapshot.
        with self.datastore.transaction(commit=False) as c:
            position = self._max_tracking_id(TRACKING_NAME, c) or 0
            counters = MonthCounters()
            c.execute("SELECT key, value FROM report_counts WHERE month = ?", (str(month),))
            counters.counts = {row[0]: row[1] for row in c.fetchall()}
            c.execute(
                "SELECT key, first_at, last_at FROM report_moments WHERE month = ?",
                (str(month),),
            )
            for row in c.fetchall():
                counters.firsts[row[0]] = row[1]
                counters.lasts[row[0]] = row[2]
            ids = list(referenced(position))
            facts = self._facts(c, ids) if ids else {}
        return position, counters, facts

    def record(
        self,
        changes: Sequence[Change],
        after: int,
        tracking: Tracking,
        drop_before: Month | None = None,
    ) -> None:
        facts, counts, moments = _merged(changes)
        with self.datastore.transaction(commit=True) as c:
            if (self._max_tracking_id(TRACKING_NAME, c) or 0) != after:
                raise ProjectionMovedError
            c.executemany(
                "INSERT INTO report_query_facts VALUES (?, ?, ?) "
                "ON CONFLICT (query_id) DO UPDATE SET facts = excluded.facts",
                [
                    (query.hex, str(f.month), json.dumps(facts_to_json(f)))
                    for query, f in facts.items()
                ],
            )
            if drop_before is not None:
                c.execute("DELETE FROM report_query_facts WHERE month < ?", (str(drop_before),))
            c.executemany(
                "INSERT INTO report_counts VALUES (?, ?, ?) ON CONFLICT (month, key) "
                "DO UPDATE SET value = report_counts.value + excluded.value",
                [(month, key, delta) for (month, key), delta in counts.items() if delta],
            )
            c.executemany(
                "INSERT INTO report_moments VALUES (?, ?, ?, ?) ON CONFLICT (month, key) "
                "DO UPDATE SET first_at = min(report_moments.first_at, excluded.first_at), "
                "last_at = max(report_moments.last_at, excluded.last_at)",
                [(month, key, a, b) for (month, key), (a, b) in moments.items()],
            )
            self._insert_tracking(c, tracking)
