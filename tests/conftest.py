"""Shared fixtures: the stores every behaviour test runs on, with a real PostgreSQL server.

PostgreSQL tests never skip: when the server cannot be reached they fail, so a green
run always means they ran (`.ci/run` makes sure the server is up).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infrastructure.settings import PostgresSettings, Settings, Store

PG_HOST = os.environ.get("SSBTEK_TEST_POSTGRES_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SSBTEK_TEST_POSTGRES_PORT", "5432"))
PG_USER = os.environ.get("SSBTEK_TEST_POSTGRES_USER", "postgres")
TEST_KEY = "11" * 32


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(
            host=PG_HOST,
            port=PG_PORT,
            user=PG_USER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required at {PG_HOST}:{PG_PORT} (user {PG_USER}); start it "
            f"(see .ci/run) and run again: {type(error).__name__}"
        )


@pytest.fixture
def postgres_database() -> Iterator[PostgresSettings]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"ssbtek_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield PostgresSettings(
                host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=name, pool_size=4
            )
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    store: Store = request.param
    postgres = PostgresSettings()
    if store is Store.POSTGRES:
        postgres = request.getfixturevalue("postgres_database")
    return Settings(
        store=store,
        data_dir=tmp_path / "var",
        postgres=postgres,
        pseudonym_key_hex=TEST_KEY,
        budget_fraction=0.05,  # 0.35 s for one subject: hanging fakes time out quickly
    )


@pytest.fixture(params=[Store.MEMORY, Store.SQLITE, Store.POSTGRES], ids=lambda s: s.value)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each store the service supports; the same test runs on all three."""
    return _settings(request, tmp_path)


@pytest.fixture(params=[Store.SQLITE, Store.POSTGRES], ids=lambda s: s.value)
def durable_store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for the stores that keep data across a restart."""
    return _settings(request, tmp_path)
