"""Why the service refuses ``SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS``, shown on a real PostgreSQL.

The eventsourcing library's stored-function insert is named per schema
(``es_insert_events_uuid``), not per table: with two applications in one schema, the one
created last owns the function, and the other's events land in its table. If a release
of the library names the function per table, this test fails and the refusal in
``infrastructure/settings.py`` can be reconsidered (the missing table lock is the other
reason, ADR 13).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from infrastructure.settings import PostgresSettings, Settings, Store
from infrastructure.stores import persistence_env


class First(Application[UUID]):
    pass


class Second(Application[UUID]):
    pass


def test_with_db_functions_one_application_writes_into_another_s_table(
    postgres_database: PostgresSettings,
) -> None:
    settings = Settings(store=Store.POSTGRES, postgres=postgres_database)
    env = {**persistence_env(settings, "first"), "POSTGRES_ENABLE_DB_FUNCTIONS": "y"}
    first, second = First(env=env), Second(env=env)
    try:
        first.save(Aggregate())
        assert first.recorder.max_notification_id() is None  # not in its own table
        assert second.recorder.max_notification_id() == 1  # but in the other one's
    finally:
        first.close()
        second.close()
