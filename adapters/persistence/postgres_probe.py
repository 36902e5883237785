"""Whether the PostgreSQL store can be written now: the store gate's probe (ADR 23).

One connection of its own, not the pool's: a probe must not wait in the pool's queue behind
the queries, nor be fooled by the pool's idle connections. It asks
``SELECT pg_is_in_recovery()``: a server that answers but is a read-only standby (after a
fail-over, before promotion) cannot take the trail either. A failed try is repeated once on
a fresh connection, so a killed connection (``pg_terminate_backend``, a proxy restart) is not
mistaken for an outage.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg


class StoreReadOnlyError(Exception):
    """The server answers but is in recovery (a standby): the store cannot be written."""


class PostgresProbe:
    def __init__(self, *, connect_timeout_s: int = 2, **conninfo: Any) -> None:
        """``conninfo``: host, port, dbname, user, password (never logged)."""
        self._conninfo = conninfo
        self._connect_timeout_s = max(2, connect_timeout_s)  # libpq treats 1 as 2
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            try:
                self._ask()
            except psycopg.Error:
                self.close()
                self._ask()  # once more, on a fresh connection

    def _ask(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                **self._conninfo,
                autocommit=True,
                connect_timeout=self._connect_timeout_s,
                options="-c statement_timeout=1000",
            )
        row = self._conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if row is None or row[0]:
            raise StoreReadOnlyError("the database is in recovery: it cannot be written")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
