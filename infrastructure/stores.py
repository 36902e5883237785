"""Which store each application uses, from the settings: the eventsourcing library's
configuration for the running service, and for opening a copy read-only.

On SQLite each application gets its own file (``<data dir>/<application>.sqlite3``): the
library's SQLite recorder names its table ``stored_events`` whatever the application, so two
applications in one file would share one notification log. On PostgreSQL each application
has its own tables (``<name>_events``) in one database. The store name is the application's
``name`` in lower case.
"""

from __future__ import annotations

from typing import Final

from infrastructure.settings import Settings, Store

_FENCED = "adapters.persistence.postgres_lease:"
QUERY_RECORDER: Final = "adapters.persistence.postgres_store:BudgetedApplicationRecorder"
"""The query store's recorder on PostgreSQL (ADR 23), imported by the library when opened."""


def persistence_env(settings: Settings, application: str) -> dict[str, str]:
    """The eventsourcing library's configuration for one application on the chosen store."""
    if settings.store is Store.MEMORY:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if settings.store is Store.SQLITE:
        path = settings.sqlite_file(application)
        path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "10",
            "CREATE_TABLE": "y" if settings.create_tables else "n",
        }
    pg = settings.postgres
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_DBNAME": pg.dbname,
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password,
        # The pool opens its connections at once: the busy query store gets the configured
        # size, the quiet ones (parties, agreements, incidents, seals...) one each, so N
        # workers stay well inside max_connections (they grow on demand up to the overflow).
        "POSTGRES_POOL_SIZE": str(pg.pool_size if application == "queries" else 1),
        "POSTGRES_MAX_OVERFLOW": str(pg.max_overflow),
        "POSTGRES_CONNECT_TIMEOUT": str(pg.connect_timeout_s),
        "POSTGRES_PRE_PING": "y" if pg.pre_ping else "n",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",  # unsafe here: see settings.UNSAFE_DB_FUNCTIONS
        "CREATE_TABLE": "y" if settings.create_tables else "n",
        # The library's recorders, with the background roles' fence checked in a role's
        # write transaction (ADR 13; any other write is not checked).
        "APPLICATION_RECORDER_TOPIC": _FENCED + "FencedApplicationRecorder",
        "PROCESS_RECORDER_TOPIC": _FENCED + "FencedProcessRecorder",
    }
    if application == "queries":  # writes within the caller's budget, once more if killed
        env["APPLICATION_RECORDER_TOPIC"] = QUERY_RECORDER
        env["POSTGRES_PRE_PING"] = "n"
    if pg.schema:
        env["POSTGRES_SCHEMA"] = pg.schema
    return env


def read_only_env(settings: Settings, name: str) -> dict[str, str] | None:
    """The library's configuration for reading one store without writing; ``None`` when the
    store does not exist (SQLite: no file)."""
    if settings.store is Store.MEMORY:
        raise ValueError("an in-memory store has no copy to open: use --data-dir or postgres")
    if settings.store is Store.SQLITE:
        path = settings.sqlite_file(name)
        if not path.is_file():
            return None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": f"{path.resolve().as_uri()}?mode=ro",
            "CREATE_TABLE": "n",
        }
    return {
        **persistence_env(settings, name),
        "CREATE_TABLE": "n",
        "POSTGRES_POOL_SIZE": "1",  # one reader per store is all an audit command needs
        "POSTGRES_MAX_OVERFLOW": "2",
    }


def read_only_sessions(factory: object) -> None:
    """PostgreSQL: every session of the pool refuses writes (set before the pool first opens)."""
    from eventsourcing.postgres import PostgresFactory  # psycopg: only for a copy to read

    if isinstance(factory, PostgresFactory):
        kwargs = factory.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs["options"] = "-c default_transaction_read_only=on"
