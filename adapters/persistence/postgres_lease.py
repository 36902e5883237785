"""The background roles' lease on PostgreSQL: one row with a fencing token (ADR 13).

    lease = PostgresLease(connection, holder="node-3f2a.../1234", ttl_s=10)
    token = lease.acquire()     # take it or renew it; None while another holds it
    lease.fence(token)          # what the role's write transactions check
    lease.release()             # on stopping: another node may take it at once

The row ``ssbtek_leases(name, holder, token, expires_at)`` is taken when it has expired
(by the database's clock, so the nodes' clocks do not matter) and renewed by its holder;
each new holder gets the next token. A role's write transaction first reads the row
``FOR SHARE`` with its token and a time left: a holder that lost the lease (expired, or
taken with a higher token) writes nothing, and a take-over waits for a write in flight
to commit. The lease has its own connection, with timeouts on every side, so a
network that stops answering fails the renewal within seconds instead of hanging.

The recorders below are the library's, with the fence checked inside the transaction
that inserts the events (and the tracking record): selected with the library's
``APPLICATION_RECORDER_TOPIC`` and ``PROCESS_RECORDER_TOPIC`` (``infrastructure.stores``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any, Final

import attrs
import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresProcessRecorder
from psycopg import sql

from adapters.persistence.fencing import LeaseLostError, check_fence

TABLE: Final = "ssbtek_leases"
ROLES: Final = "background-roles"


@attrs.frozen
class PostgresConnection:
    """Where the lease's own connection goes."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = attrs.field(default="", repr=False)
    schema: str = ""
    connect_timeout_s: int = 5


@attrs.frozen
class PostgresFence:
    """The lease with one token, checked in a write transaction (``Fence``)."""

    table: sql.Composed
    name: str
    holder: str
    token: int

    def check(self, cursor: object) -> None:
        assert isinstance(cursor, psycopg.Cursor)
        cursor.execute(
            sql.SQL(
                "SELECT token FROM {} WHERE name = %s AND holder = %s AND token = %s"
                " AND expires_at > statement_timestamp() FOR SHARE"
            ).format(self.table),
            (self.name, self.holder, self.token),
        )
        if cursor.fetchone() is None:
            raise LeaseLostError(f"the {self.name} lease (token {self.token}) is no longer held")


class PostgresLease:
    """A lease row in PostgreSQL, on a connection of its own (see the module docstring)."""

    def __init__(
        self,
        connection: PostgresConnection,
        *,
        holder: str,
        ttl_s: float,
        name: str = ROLES,
        create_table: bool = True,
    ) -> None:
        self.holder = holder
        self.ttl_s = ttl_s
        self.name = name
        self._where = connection
        self._table = sql.SQL(".").join(
            [sql.Identifier(connection.schema or "public"), sql.Identifier(TABLE)]
        )
        self._connection: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._token: int | None = None
        self._create = create_table
        """Create the table with the first statement (not here: a database that is down at
        start does not stop the start)."""

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        where = self._where
        wait_ms = max(1000, int(self.ttl_s * 1000 / 4))
        self._connection = psycopg.connect(
            host=where.host,
            port=where.port,
            dbname=where.dbname,
            user=where.user,
            password=where.password or None,
            connect_timeout=max(1, min(where.connect_timeout_s, int(self.ttl_s / 4) or 1)),
            autocommit=True,
            # A network that stops answering ends the connection within a quarter lease on
            # this side, and the server ends its session (PostgreSQL's own keepalives).
            keepalives=1,
            keepalives_idle=max(1, int(self.ttl_s / 4)),
            keepalives_interval=1,
            keepalives_count=2,
            tcp_user_timeout=wait_ms,
            options=f"-c statement_timeout={wait_ms} -c lock_timeout={wait_ms}"
            f" -c tcp_keepalives_idle={max(1, int(self.ttl_s / 4))}"
            " -c tcp_keepalives_interval=1 -c tcp_keepalives_count=2",
        )
        return self._connection

    def create_table(self) -> None:
        """Create the lease table if it is missing (``ssbtek serve --workers N``: once, first)."""
        with self._lock:
            self._create_table()

    def _create_table(self) -> None:
        statement = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, holder text NOT NULL,"
            " token bigint NOT NULL, expires_at timestamptz NOT NULL)"
        ).format(self._table)
        created = (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable)
        with contextlib.suppress(*created):  # by another node at the same moment
            self._connect().execute(statement)
        self._create = False

    def acquire(self) -> int | None:
        """Take the lease if it is free or expired, renew it if this holder has it: the token
        while this holder has it, None while another does. A store failure raises."""
        statement = sql.SQL(
            "INSERT INTO {t} AS lease (name, holder, token, expires_at)"
            " VALUES (%(name)s, %(holder)s, 1, statement_timestamp() + %(ttl)s * interval '1 s')"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " token = CASE WHEN lease.holder = excluded.holder"
            " AND lease.expires_at > statement_timestamp() THEN lease.token"
            " ELSE lease.token + 1 END,"
            " expires_at = excluded.expires_at"
            " WHERE lease.holder = excluded.holder OR lease.expires_at <= statement_timestamp()"
            " RETURNING token"
        ).format(t=self._table)
        # A candidate first looks without locking: the upsert locks the row even when it does
        # not take it, and would wait behind the holder's writes (they read it FOR SHARE).
        look = sql.SQL(
            "SELECT 1 FROM {} WHERE name = %s AND holder <> %s"
            " AND expires_at > statement_timestamp()"
        ).format(self._table)
        with self._lock:
            try:
                if self._create:
                    self._create_table()
                connection = self._connect()
                if connection.execute(look, (self.name, self.holder)).fetchone() is not None:
                    row = None  # another holds it
                else:
                    row = connection.execute(
                        statement, {"name": self.name, "holder": self.holder, "ttl": self.ttl_s}
                    ).fetchone()
            except psycopg.Error:
                self._drop()
                raise
        self._token = None if row is None else int(row[0])
        return self._token

    def fence(self, token: int) -> PostgresFence:
        return PostgresFence(self._table, self.name, self.holder, token)

    def release(self) -> None:
        """Give the lease up now (on stopping), if this holder still has it."""
        if self._token is None:
            return
        statement = sql.SQL(
            "UPDATE {} SET expires_at = statement_timestamp()"
            " WHERE name = %s AND holder = %s AND token = %s"
        ).format(self._table)
        with self._lock:
            try:
                self._connect().execute(statement, (self.name, self.holder, self._token))
            except psycopg.Error:
                self._drop()  # it expires by itself
        self._token = None

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def close(self) -> None:
        with self._lock:
            self._drop()


class FencedApplicationRecorder(PostgresApplicationRecorder):
    """The library's recorder; a role's write first checks its lease (``check_fence``)."""

    def _insert_events(
        self, curs: psycopg.Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        check_fence(curs)
        super()._insert_events(curs, stored_events, **kwargs)


class FencedProcessRecorder(PostgresProcessRecorder):
    """The library's process recorder (events with their tracking record), fenced alike."""

    def _insert_events(
        self, curs: psycopg.Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        check_fence(curs)
        super()._insert_events(curs, stored_events, **kwargs)
