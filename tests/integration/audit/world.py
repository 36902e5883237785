"""A small world for the audit tests: a Queries log with real queries, its seals, and an
attacker with raw SQL access to the stores (SQLite files or a PostgreSQL database)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.security.signing import Ed25519Signer, Ed25519Verifier
from adapters.system_clock import SystemClock
from application.audit.seals import AuditSeals
from application.audit.trail import AuditTrail
from application.queries import Queries
from domain.providers import STOCKHOLM
from infrastructure.composition import AuditCopy, build_audit_seals, build_queries, open_audit_copy
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock, fake_base_services
from tests.unit.application.test_query_saga import SUBJECTS, command

WEDNESDAY_MORNING = dt.datetime(2026, 11, 25, 9, 30, tzinfo=STOCKHOLM)
EVENTS_PER_QUERY = 4
"""An answered query's trail: Received, Compiled, Delivered, CaseDataErased."""


def new_signer() -> Ed25519Signer:
    return Ed25519Signer(Ed25519PrivateKey.generate())


def verifier_of(*signers: Ed25519Signer) -> Ed25519Verifier:
    return Ed25519Verifier([signer.public_key for signer in signers])


def open_queries(settings: Settings, clock: FakeClock) -> Queries:
    return build_queries(
        settings, base_services=fake_base_services(skatteverket="fail"), clock=clock
    )


async def ask(queries: Queries, clock: FakeClock, count: int) -> None:
    """``count`` answered queries, one minute apart, about one or two subjects."""
    for index in range(count):
        await queries.submit(command(SUBJECTS[: 1 + index % 2]))
        clock.advance(dt.timedelta(minutes=1))


@contextmanager
def copy_of(settings: Settings, *signers: Ed25519Signer) -> Iterator[AuditTrail]:
    """The stores opened read-only, as an auditor opens a copy."""
    opened: AuditCopy = open_audit_copy(
        settings, verifier=verifier_of(*signers), clock=SystemClock()
    )
    try:
        yield opened.trail
    finally:
        opened.close()


def seals_for(settings: Settings, signer: Ed25519Signer, clock: FakeClock) -> AuditSeals:
    return build_audit_seals(settings, clock=clock, signer=signer)


class Attacker:
    """Raw SQL on one application's events table, as someone with database access would."""

    def __init__(self, settings: Settings, application: str = "queries") -> None:
        self._settings = settings
        self._application = application
        self.sqlite = settings.store is Store.SQLITE
        self.table = "stored_events" if self.sqlite else f"{application}_events"
        self.position = "rowid" if self.sqlite else "notification_id"

    @contextmanager
    def _db(self) -> Iterator[Any]:
        if self.sqlite:
            lite = sqlite3.connect(self._settings.sqlite_file(self._application))
            try:
                with lite:
                    yield lite
            finally:
                lite.close()
        else:
            pg = self._settings.postgres
            with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.dbname) as db:
                yield db

    def _sql(self, statement: str) -> str:
        statement = statement.replace("{table}", self.table).replace("{position}", self.position)
        return statement if self.sqlite else statement.replace("?", "%s")

    def rows(self) -> list[tuple[int, Any, int, str, bytes]]:
        """(position, originator id, version, topic, state) of every row, in order."""
        with self._db() as db:
            found = db.execute(
                self._sql(
                    "SELECT {position}, originator_id, originator_version, topic, state "
                    "FROM {table} ORDER BY {position}"
                )
            ).fetchall()
        return [(int(p), o, int(v), str(t), bytes(s)) for p, o, v, t, s in found]

    def update_state(self, position: int, state: bytes) -> None:
        with self._db() as db:
            db.execute(
                self._sql("UPDATE {table} SET state = ? WHERE {position} = ?"), (state, position)
            )

    def delete(self, position: int) -> None:
        with self._db() as db:
            db.execute(self._sql("DELETE FROM {table} WHERE {position} = ?"), (position,))

    def insert_at(self, position: int, topic: str, state: bytes) -> None:
        """Make room by moving every later row up one position, then insert a forged row."""
        originator: Any = uuid.uuid4().hex if self.sqlite else uuid.uuid4()
        with self._db() as db:
            shift = "UPDATE {table} SET {position} = {position} + 1000000 WHERE {position} >= ?"
            db.execute(self._sql(shift), (position,))
            back = "UPDATE {table} SET {position} = {position} - 999999 WHERE {position} >= 1000000"
            db.execute(self._sql(back))
            db.execute(
                self._sql(
                    "INSERT INTO {table} ({position}, originator_id, originator_version, topic, "
                    "state) VALUES (?, ?, ?, ?, ?)"
                ),
                (position, originator, 1, topic, state),
            )

    def swap(self, first: int, second: int) -> None:
        """Exchange two rows' contents (the positions stay)."""
        rows = {row[0]: row for row in self.rows()}
        a, b = rows[first], rows[second]
        parking: Any = uuid.uuid4().hex if self.sqlite else uuid.uuid4()
        move = (
            "UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? "
            "WHERE {position} = ?"
        )
        with self._db() as db:
            db.execute(self._sql(move), (parking, 0, a[3], a[4], first))
            db.execute(self._sql(move), (a[1], a[2], a[3], a[4], second))
            db.execute(self._sql(move), (b[1], b[2], b[3], b[4], first))
