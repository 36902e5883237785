"""The background roles' lease (ADR 13): one holder at a time, each new holder with a higher
fencing token, and a role's write refused in its own transaction once its lease is lost.

A lease row is "lost" here as a holder paused past its expiry would lose it (a stop of the
process, a long pause): the test expires it in the database and another holder takes it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from adapters.persistence.fencing import LeaseLostError, fenced
from adapters.persistence.postgres_lease import PostgresConnection, PostgresLease
from domain.providers import Provider
from infrastructure.composition import (
    build_queries,
    build_role_lease,
    build_service,
    build_service_management,
    seed_demo_data,
)
from infrastructure.settings import PostgresSettings, Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock, fake_base_services
from tests.integration.test_automatic_incidents import WEDNESDAY_NOON
from tests.service_management_support import query_command


def _lease(database: PostgresSettings, holder: str) -> PostgresLease:
    where = PostgresConnection(database.host, database.port, database.dbname, database.user)
    return PostgresLease(where, holder=holder, ttl_s=30)


def _expire(database: PostgresSettings) -> None:
    with psycopg.connect(
        host=database.host, port=database.port, user=database.user, dbname=database.dbname
    ) as connection:
        connection.execute("UPDATE ssbtek_leases SET expires_at = now() - interval '1 s'")


def test_one_holder_at_a_time_and_every_new_holder_a_higher_token(
    postgres_database: PostgresSettings,
) -> None:
    first, second = _lease(postgres_database, "a/1"), _lease(postgres_database, "b/2")
    try:
        assert first.acquire() == 1
        assert second.acquire() is None
        assert first.acquire() == 1  # renewed, same token
        first.release()  # on stopping: free at once
        assert second.acquire() == 2
        assert first.acquire() is None
        _expire(postgres_database)  # the holder paused past its lease
        assert first.acquire() == 3
        assert second.acquire() is None
    finally:
        first.close()
        second.close()


def test_a_sealer_that_lost_the_lease_writes_no_seal(
    tmp_path: Path, postgres_database: PostgresSettings
) -> None:
    settings = Settings(
        store=Store.POSTGRES,
        data_dir=tmp_path,
        postgres=postgres_database,
        pseudonym_key_hex=TEST_KEY,
    )
    service = build_service(settings)
    old, new = _lease(postgres_database, "old/1"), _lease(postgres_database, "new/2")
    try:
        seed_demo_data(service)  # events in the parties' log to seal
        token = old.acquire()
        assert token == 1
        _expire(postgres_database)
        assert new.acquire() == 2
        with fenced(old.fence(token)), pytest.raises(LeaseLostError):
            service.audit.seals.seal("parties", service.parties.recorder)
        assert service.audit.seals.stored_seals("parties") == []
        with fenced(new.fence(2)):
            made = service.audit.seals.seal("parties", service.parties.recorder)
        assert len(made) == 1
        assert len(service.audit.seals.stored_seals("parties")) == 1
    finally:
        old.close()
        new.close()
        service.close()


async def test_a_follower_that_lost_the_lease_records_neither_incident_nor_position(
    tmp_path: Path, postgres_database: PostgresSettings
) -> None:
    settings = Settings(
        store=Store.POSTGRES,
        data_dir=tmp_path,
        postgres=postgres_database,
        pseudonym_key_hex=TEST_KEY,
    )
    services, clock = fake_base_services(), FakeClock(WEDNESDAY_NOON)
    services[Provider.CSN].mode = services[Provider.SKATTEVERKET].mode = "fail"
    queries = build_queries(settings, base_services=services, clock=clock)
    management = build_service_management(settings, clock=clock, queries=queries)
    incidents = management.incidents
    old, new = _lease(postgres_database, "old/1"), _lease(postgres_database, "new/2")
    try:
        await queries.submit(query_command())  # two providers fail: an incident (§ 3.8)
        token = old.acquire()
        assert token == 1
        _expire(postgres_database)
        assert new.acquire() == 2
        with fenced(old.fence(token)), pytest.raises(LeaseLostError):
            incidents.process_queries()
        assert incidents.recorder.max_tracking_id("Queries") is None
        assert incidents.list_incidents() == []
        incidents.reread_automatic_incidents()
        with fenced(new.fence(2)):
            incidents.process_queries()
        assert len(incidents.list_incidents()) == 1
    finally:
        old.close()
        new.close()
        management.close()
        queries.close()


def test_on_one_machine_a_file_lock_holds_the_roles(tmp_path: Path) -> None:
    settings = Settings(store=Store.SQLITE, data_dir=tmp_path, pseudonym_key_hex=TEST_KEY)
    first, second = build_role_lease(settings), build_role_lease(settings)
    assert first is not None
    assert second is not None
    assert first.acquire() == 1
    assert second.acquire() is None
    first.close()  # or the process ended: the kernel releases the lock
    assert second.acquire() == 2
    second.close()
    excluded = Settings(store=Store.SQLITE, data_dir=tmp_path, singletons=False)
    assert build_role_lease(excluded) is None
