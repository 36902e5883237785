"""The query store's writes on PostgreSQL (ADR 23): committed within the caller's budget or
not at all, so the trail never says delivered for an answer that did not leave; and a write
that meets a killed pooled connection is written once more on a fresh one."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from adapters.persistence.postgres_store import BudgetedApplicationRecorder
from application.errors import AuditUnavailableError, DeadlineExceededError
from application.queries import Queries, SagaSettings
from domain.identity import OrganisationNumber
from domain.query.aggregate import Query, QueryStatus
from infrastructure.composition import build_queries
from infrastructure.settings import PostgresSettings, Settings, Store
from tests.fakes import fake_base_services
from tests.unit.application.test_query_saga import command

pytestmark = pytest.mark.postgres


@pytest.fixture
def settings(postgres_database: PostgresSettings) -> Settings:
    return Settings(store=Store.POSTGRES, postgres=postgres_database, pseudonym_key_hex="77" * 32)


@pytest.fixture
def queries(settings: Settings) -> Iterator[Queries]:
    services = fake_base_services()
    for service in services.values():
        service.delay_s = 0.3  # the answer's save comes after the lock is taken
    app = build_queries(settings, base_services=services, saga=SagaSettings())
    yield app
    app.close()


def _connect(pg: PostgresSettings) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.dbname)


async def test_an_answer_whose_save_cannot_commit_before_the_deadline_is_not_delivered(
    queries: Queries, settings: Settings
) -> None:
    """Another session holds the query table's lock: the answer's save waits, is rolled
    back before the caller's deadline, and the trail ends without ``Delivered``."""
    assert isinstance(queries.recorder, BudgetedApplicationRecorder)
    answered = await queries.submit(command(client_request_id="warm-up"))  # tables exist
    assert answered.query_id
    blocker = _connect(settings.postgres)
    locked = threading.Event()
    release = threading.Event()

    def hold_the_lock() -> None:
        with blocker.transaction():
            blocker.execute("LOCK TABLE queries_events IN EXCLUSIVE MODE")
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    started = time.monotonic()
    try:
        # The first write must land before the lock is taken: take it once Received is in.
        task = asyncio.create_task(
            queries.submit(command(client_request_id="stalled"), time_remaining_s=1.5)
        )
        await asyncio.sleep(0.05)
        holder.start()
        await asyncio.to_thread(locked.wait, 5)
        with pytest.raises((AuditUnavailableError, DeadlineExceededError)):
            await task
        assert time.monotonic() - started < 1.5, "refused before the caller's deadline"
    finally:
        release.set()
        holder.join()
        blocker.close()
    query_id = queries._query_id(OrganisationNumber.parse("212000-0142"), "stalled")
    for _ in range(100):  # the attempt is closed in the background once the store answers
        stored: Query = queries.repository.get(query_id)
        if stored.status is not QueryStatus.RECEIVED:
            break
        await asyncio.sleep(0.05)
    assert stored.status in (QueryStatus.ABANDONED, QueryStatus.CANCELLED)
    assert stored.delivered_at is None


async def test_a_write_on_a_killed_connection_is_written_again_on_a_fresh_one(
    queries: Queries, settings: Settings
) -> None:
    await queries.submit(command(client_request_id=uuid.uuid4().hex))  # the pool's connections
    before = BudgetedApplicationRecorder.retried_writes
    with _connect(settings.postgres) as admin:
        admin.autocommit = True
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (settings.postgres.dbname,),
        ).fetchone()
    assert killed is not None
    assert int(str(killed[0])) >= 1
    for _ in range(5):
        answer = await queries.submit(command(client_request_id=uuid.uuid4().hex))
        query: Query = queries.repository.get(answer.query_id)
        assert query.status is QueryStatus.ERASED
    assert BudgetedApplicationRecorder.retried_writes > before
    assert not queries.store_gate.is_open


async def test_retries_on_two_workers_deliver_one_answer_for_one_request_id(
    queries: Queries, settings: Settings
) -> None:
    """Two processes on one database (two ``Queries`` applications, as two workers or nodes
    have): a query closed unanswered, retried on both at once, is answered once."""
    other = build_queries(settings, base_services=fake_base_services(), saga=SagaSettings())
    try:
        first = asyncio.create_task(queries.submit(command(client_request_id="twice")))
        await asyncio.sleep(0.1)  # received, the providers being asked
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        results = await asyncio.gather(
            *(
                app.submit(command(client_request_id="twice"))
                for app in (queries, other, queries, other)
            ),
            return_exceptions=True,
        )
        kinds = sorted(type(r).__name__ for r in results)
        assert kinds.count("CompiledAnswer") == 1, kinds
        # The others are told another call has it: in progress while the winner answers,
        # or ALREADY_EXISTS once its answer was delivered (ADR 6; which one is timing).
        assert set(kinds) <= {"CompiledAnswer", "QueryInProgressError", "DuplicateQueryError"}, (
            kinds
        )
        query_id = queries._query_id(OrganisationNumber.parse("212000-0142"), "twice")
        topics = [
            n.topic.rsplit(".", 1)[-1]
            for n in queries.recorder.select_notifications(1, 1000)
            if str(n.originator_id) == str(query_id)
        ]
        assert topics.count("Delivered") == 1
        assert topics[:3] == ["Received", "Cancelled", "Retried"]
    finally:
        other.close()
