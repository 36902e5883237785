"""The audit rows of one query, as the event store writes them, and stores built in-process.

``capture`` runs ONE query through the ``Queries`` application on a throw-away
PostgreSQL database (simulated providers, no latency) and reads back what landed in its
``queries_events`` table. The storage and replay scenarios then write copies of exactly
those rows, each copy under a new originator id (one copy = one query's audit trail).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from pathlib import Path

import attrs
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from adapters.grpc import translation
from adapters.providers.simulated import build_simulated_base_services
from application.queries import Queries
from bench import pg
from bench.config import Context
from bench.servers import PSEUDONYM_KEY
from bench.workload import submit_query_request
from infrastructure.composition import build_queries
from infrastructure.settings import PostgresSettings, Settings, Store
from infrastructure.stores import persistence_env

EVENTS_TABLE = "queries_events"


@attrs.frozen
class AuditRow:
    originator_version: int
    topic: str
    state: bytes


@attrs.frozen
class Template:
    """One query's rows in ``queries_events``, in the order they were written."""

    rows: tuple[AuditRow, ...]

    def stored_events(self, originator_id: uuid.UUID | None = None) -> list[StoredEvent]:
        """A copy of the rows under ``originator_id`` (a new one when not given)."""
        originator = originator_id or uuid.uuid4()
        return [
            StoredEvent(
                originator_id=originator,
                originator_version=row.originator_version,
                topic=row.topic,
                state=row.state,
            )
            for row in self.rows
        ]

    def describe(self) -> dict[str, object]:
        return {
            "events_per_query": len(self.rows),
            "state_bytes_per_query": sum(len(row.state) for row in self.rows),
            "topics": [row.topic for row in self.rows],
        }


def settings(
    ctx: Context, store: Store, *, dbname: str = "", data_dir: Path | None = None
) -> Settings:
    """The service's settings for an in-process store (``data_dir`` holds SQLite files)."""
    return attrs.evolve(
        Settings(),
        store=store,
        data_dir=data_dir or ctx.workdir / "var",
        postgres=PostgresSettings(
            host=ctx.pg.host, port=ctx.pg.port, user=ctx.pg.user, dbname=dbname
        ),
        pseudonym_key_hex=PSEUDONYM_KEY,
        provider_options={"latency": "none"},
        rate_limit="",
    )


def queries(settings: Settings) -> Queries:
    """The ``Queries`` application exactly as the composition root builds it."""
    return build_queries(
        settings, base_services=build_simulated_base_services(settings.provider_options)
    )


def recorder(settings: Settings, extra_env: Mapping[str, str]) -> ApplicationRecorder:
    """The ``Queries`` application's event recorder on the configured store, with
    ``extra_env`` added to the library's configuration (options the service's settings
    cannot pass yet). Same table (``queries_events``) as the application's."""
    env = Environment(Queries.name, {**persistence_env(settings, "queries"), **extra_env})
    factory = InfrastructureFactory.construct(env)
    return factory.application_recorder()


def capture(ctx: Context) -> Template:
    """Run one query on a fresh PostgreSQL database; the rows it wrote."""
    with pg.temporary_database(ctx.pg, "template") as dbname:
        app = queries(settings(ctx, Store.POSTGRES, dbname=dbname))
        try:
            command = translation.query_command(submit_query_request(1))
            asyncio.run(app.submit(command))
        finally:
            app.close()
        with ctx.pg.connect(dbname) as connection:
            rows = connection.execute(
                "SELECT originator_version, topic, state FROM queries_events "
                "ORDER BY notification_id"
            ).fetchall()
    return Template(tuple(AuditRow(int(v), str(t), bytes(s)) for v, t, s in rows))
