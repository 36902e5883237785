"""``ssbtek serve`` waits for a database that is not up yet (ADR 23): one log line per attempt
naming host and port and never the password, a bounded backoff, and no waiting for a mistake
that waiting cannot cure."""

from __future__ import annotations

import logging

import pytest

from infrastructure import postgres_reach
from infrastructure.postgres_reach import wait_for_postgres
from infrastructure.settings import PostgresSettings

PASSWORD = "hunter2-not-real"
PG = PostgresSettings(host="db.example", port=6543, password=PASSWORD)


def test_it_waits_with_a_bounded_backoff_then_starts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    answers = iter([*["cannot connect to PostgreSQL at db.example:6543: Connection refused"] * 8])
    monkeypatch.setattr(postgres_reach, "postgres_problem", lambda pg: next(answers, None))
    slept: list[float] = []
    with caplog.at_level(logging.WARNING):
        assert wait_for_postgres(PG, log=logging.getLogger("t"), sleep=slept.append) is None
    assert slept == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    waiting = [r.getMessage() for r in caplog.records if "waiting for PostgreSQL" in r.getMessage()]
    assert len(waiting) == 8
    assert all("db.example:6543" in line for line in waiting)
    assert PASSWORD not in caplog.text
    assert "answers: starting" in caplog.text


def test_a_mistake_that_waiting_cannot_cure_ends_the_wait_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = "database ssbtek does not exist; create it with createdb ..."
    monkeypatch.setattr(postgres_reach, "postgres_problem", lambda pg: missing)
    slept: list[float] = []
    assert wait_for_postgres(PG, log=logging.getLogger("t"), sleep=slept.append) == missing
    assert slept == []
