"""PostgreSQL for the benchmarks: throw-away databases, server settings, backend CPU.

Every database this suite makes is named ``ssbtek_bench_<pid>_<n>`` and dropped (with
``FORCE``, which ends only the sessions connected to that database) when done.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import attrs
import psycopg
from psycopg import sql

from bench import procs

_SETTINGS: Final = (
    "server_version",
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "shared_buffers",
    "max_connections",
)
_counter = itertools.count(1)


@attrs.frozen
class PgServer:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    admin_dbname: str = "postgres"

    def conninfo(self, dbname: str | None = None) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host, port=self.port, user=self.user, dbname=dbname or self.admin_dbname
        )

    def connect(self, dbname: str | None = None, *, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname), autocommit=autocommit, connect_timeout=10)


def settings(server: PgServer) -> dict[str, str]:
    """The server settings that decide what a commit costs."""
    found: dict[str, str] = {}
    with server.connect() as connection:
        for name in _SETTINGS:
            row = connection.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            found[name] = str(row[0]) if row else ""
    return found


@contextmanager
def temporary_database(
    server: PgServer, purpose: str, *, prefix: str = "ssbtek_bench"
) -> Iterator[str]:
    """A new, empty database for one measurement; dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{next(_counter)}_{purpose}"
    with server.connect() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with server.connect() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def set_synchronous_commit(server: PgServer, dbname: str, value: str) -> None:
    """``ALTER DATABASE ... SET synchronous_commit``: for sessions opened afterwards."""
    with server.connect() as connection:
        connection.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = {}").format(
                sql.Identifier(dbname), sql.Literal(value)
            )
        )


def backend_pids(admin_conninfo: str, dbname: str) -> list[int]:
    """The server processes serving sessions on ``dbname`` (the service's pool)."""
    with psycopg.connect(admin_conninfo, autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,)
        ).fetchall()
    return [int(row[0]) for row in rows]


def backend_cpu(admin_conninfo: str, dbname: str) -> dict[int, float]:
    """CPU seconds so far of every backend serving ``dbname``, by pid (same machine)."""
    return {pid: procs.cpu_seconds(pid) for pid in backend_pids(admin_conninfo, dbname)}


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two ``backend_cpu`` readings (new backends count whole)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
