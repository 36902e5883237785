"""SQLite locked by another process: queries get UNAVAILABLE quickly, no answer leaves
without its audit events, and the service recovers by itself when the lock is released."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from application.errors import AuditUnavailableError
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock, fake_base_services
from tests.reliability.store_recovery import answers_again_with_every_audit_complete
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command


async def test_a_locked_database_refuses_quickly_and_the_service_recovers(tmp_path: Path) -> None:
    settings = Settings(
        store=Store.SQLITE, data_dir=tmp_path, pseudonym_key_hex="77" * 32, rate_limit=""
    )
    queries = build_queries(
        settings, base_services=fake_base_services(), clock=FakeClock(WEDNESDAY_NOON)
    )
    try:
        answered = [(await queries.submit(command(client_request_id=uuid.uuid4().hex))).query_id]
        locker = sqlite3.connect(settings.sqlite_file("queries"), isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            for _ in range(3):
                started = time.monotonic()
                with pytest.raises(AuditUnavailableError):
                    await queries.submit(command(client_request_id=uuid.uuid4().hex))
                assert time.monotonic() - started < 4.0
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        await answers_again_with_every_audit_complete(queries, answered)
    finally:
        queries.close()
