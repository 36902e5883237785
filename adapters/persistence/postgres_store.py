"""The query store's PostgreSQL recorder: writes that fit the caller's budget, and one retry
on a fresh connection when a pooled connection turns out to be dead (ADR 23).

The eventsourcing library's ``PostgresApplicationRecorder.insert_events`` retries a failed
write ten times, 0.2 s apart, each time waiting up to the pool's timeout for a connection:
right for a blip, ten times too slow for a query with a 7 s service level while the
database is down, and no help when every pooled connection was killed at once (each retry
takes the next dead one). This recorder (named by the library's ``APPLICATION_RECORDER_TOPIC``
for the ``queries`` store only) writes instead:

- within the deadline the saga set (``application.store_budget``): the pool wait, the
  connect timeout, ``statement_timeout`` and ``lock_timeout`` come from what is left, and the
  transaction is rolled back rather than committed when less than ``COMMIT_MARGIN_S`` is
  left after the insert (``StoreDeadlinePassedError``: nothing was written);
- once more, on a connection of its own opened for it, when the first try failed on a
  connection error before the commit was sent (nothing was written then); the pool is
  asked to check its idle connections, so it drops the other dead ones too. A failure
  during the commit itself is not retried: its outcome is unknown, and the saga treats it
  as unavailable (the retry rules of ADR 6 close the query).

The reads keep the library's own code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final

import psycopg
import psycopg_pool
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import DictRow
from psycopg.sql import SQL, Literal
from psycopg.types.composite import register_composite

from adapters.persistence.fencing import check_fence
from application.store_budget import StoreDeadlinePassedError, current_deadline

log = logging.getLogger(__name__)

COMMIT_MARGIN_S: Final = 0.1
"""Left for the commit and for handing the answer to the transport after the insert."""
MIN_CONNECT_TIMEOUT_S: Final = 2
"""libpq's smallest useful ``connect_timeout`` (it treats 1 as 2)."""

_CONNECTION_ERRORS: Final = (psycopg.OperationalError, psycopg.InterfaceError)


class _CommitUncertainError(Exception):
    """The connection failed while the commit was on its way: the outcome is unknown."""


class BudgetedApplicationRecorder(PostgresApplicationRecorder):
    """``insert_events`` within the caller's budget, retried once on a fresh connection."""

    retried_writes = 0
    """How many writes needed their second try (process-wide; for tests and logs)."""
    _lock = threading.Lock()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        deadline = current_deadline()
        try:
            return self._insert(stored_events, deadline, fresh=False)
        except _CommitUncertainError as error:
            raise OperationalError(str(error)) from None
        except _CONNECTION_ERRORS as error:
            if deadline is not None and deadline - time.monotonic() <= COMMIT_MARGIN_S:
                raise OperationalError(type(error).__name__) from None
            log.info(
                "a pooled connection failed (%s): writing on a fresh one", type(error).__name__
            )
            self._drop_dead_connections()
        with BudgetedApplicationRecorder._lock:
            BudgetedApplicationRecorder.retried_writes += 1
        try:
            return self._insert(stored_events, deadline, fresh=True)
        except (_CommitUncertainError, *_CONNECTION_ERRORS) as error:
            raise OperationalError(type(error).__name__) from None

    def _insert(
        self, stored_events: Sequence[StoredEvent], deadline: float | None, *, fresh: bool
    ) -> Sequence[int]:
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self._connection(deadline, fresh=fresh) as conn:
            committing = False
            try:
                with conn.transaction():
                    with conn.cursor() as curs:
                        left = _left(deadline)
                        if left is not None:
                            milliseconds = max(1, int((left - COMMIT_MARGIN_S) * 1000))
                            curs.execute(
                                SQL("SET LOCAL statement_timeout = {0}").format(
                                    Literal(milliseconds)
                                )
                            )
                            curs.execute(
                                SQL("SET LOCAL lock_timeout = {0}").format(Literal(milliseconds))
                            )
                        check_fence(curs)  # recovery writes here as a background role (ADR 13)
                        for statement in self.lock_table_statements[1:]:  # LOCK TABLE
                            curs.execute(statement, prepare=True)
                        self._notify_channel(curs)
                        curs.execute(self.insert_events_statement, (rows,))
                        ids = [row["notification_id"] for row in curs.fetchall()]
                    left = _left(deadline)
                    if left is not None and left < COMMIT_MARGIN_S:
                        raise StoreDeadlinePassedError  # rolls the transaction back
                    committing = True
            except psycopg.IntegrityError as error:
                raise IntegrityError(str(error)) from error
            except (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable):
                raise StoreDeadlinePassedError from None  # statement or lock timeout
            except _CONNECTION_ERRORS as error:
                if committing:
                    raise _CommitUncertainError(type(error).__name__) from error
                raise
        return ids

    @contextmanager
    def _connection(
        self, deadline: float | None, *, fresh: bool
    ) -> Iterator[psycopg.Connection[DictRow]]:
        pool = self.datastore.pool
        left = _left(deadline)
        if left is not None and left <= COMMIT_MARGIN_S:
            raise StoreDeadlinePassedError
        if not fresh:
            pool.open(wait=False)
            timeout = pool.timeout if left is None else min(pool.timeout, left - COMMIT_MARGIN_S)
            with pool.connection(timeout=timeout) as pooled:
                self._with_types(pooled)
                yield pooled
            return
        kwargs = dict(pool.kwargs) if isinstance(pool.kwargs, dict) else {}
        connect_timeout = kwargs.pop("connect_timeout", None) or pool.timeout
        if left is not None:
            connect_timeout = min(connect_timeout, left)
        conn: psycopg.Connection[DictRow] = psycopg.Connection.connect(
            **kwargs, connect_timeout=max(MIN_CONNECT_TIMEOUT_S, int(connect_timeout))
        )
        try:
            self.datastore.after_connect_func()(conn)
            self._with_types(conn)
            yield conn
        finally:
            conn.close()

    def _with_types(self, conn: psycopg.Connection[DictRow]) -> None:
        for info in self.datastore.psycopg_type_adapters.values():
            if not conn.adapters.types.get(info.oid):
                register_composite(info, conn)

    def _drop_dead_connections(self) -> None:
        """Have the pool check its idle connections in the background (dropping dead ones)."""
        pool = self.datastore.pool

        def check() -> None:
            with suppress(psycopg.Error, psycopg_pool.PoolClosed):
                pool.check()

        threading.Thread(target=check, name="pool-check", daemon=True).start()


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()
