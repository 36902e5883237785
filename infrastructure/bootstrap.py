"""The composition root: builds the application and its adapters from explicit settings.

Nothing is built at import time. Base-service adapters are found through the
``ssbtek.providers`` entry-point group, so a real provider adapter plugs in from its
own package without a change here (see README, "Plugging in a real base service").
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

from adapters.metrics.rate_limit import MovingWindowPerOrganisation
from adapters.persistence.transcodings import query_transcodings
from adapters.security.pseudonymiser import MIN_KEY_BYTES, HmacPseudonymiser
from adapters.system_clock import SystemClock
from application.ports import AccessPolicy, BaseService, Checkpoints, Clock, Metrics
from application.queries import Queries, SagaSettings
from domain.providers import Provider
from infrastructure.key_files import create_once
from infrastructure.settings import Settings, Store

PROVIDER_GROUP = "ssbtek.providers"

log = logging.getLogger(__name__)


def persistence_env(settings: Settings, application: str) -> dict[str, str]:
    """The eventsourcing library's configuration for one application on the chosen store.

    On SQLite each application gets its own file (``<data dir>/<application>.sqlite3``):
    the library's SQLite recorder names its table ``stored_events`` whatever the
    application, so two applications in one file would share one notification log. On
    PostgreSQL each application has its own tables (``<name>_events``) in one database.
    """
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
        # size, the quiet ones (parties, agreements, incidents, seals...) at most 2, so N
        # workers stay well inside max_connections (they grow on demand up to the overflow).
        "POSTGRES_POOL_SIZE": str(
            pg.pool_size if application == "queries" else min(pg.pool_size, 2)
        ),
        "POSTGRES_MAX_OVERFLOW": str(pg.max_overflow),
        "POSTGRES_CONNECT_TIMEOUT": str(pg.connect_timeout_s),
        "POSTGRES_PRE_PING": "y" if pg.pre_ping else "n",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",  # unsafe here: see settings.UNSAFE_DB_FUNCTIONS
        "CREATE_TABLE": "y" if settings.create_tables else "n",
    }
    if pg.schema:
        env["POSTGRES_SCHEMA"] = pg.schema
    return env


def load_base_services(name: str, options: Mapping[str, str]) -> dict[Provider, BaseService]:
    """Build the base services from the entry point ``name`` of group ``ssbtek.providers``."""
    found = {ep.name: ep for ep in entry_points(group=PROVIDER_GROUP)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ValueError(f"no base-service adapter named {name!r} (installed: {known})")
    factory = found[name].load()
    base_services: dict[Provider, BaseService] = factory(options)
    return base_services


def pseudonym_key(settings: Settings) -> bytes:
    """The HMAC key: from ``SSBTEK_PSEUDONYM_KEY``, else a key file made once in the data dir."""
    if settings.pseudonym_key_hex:
        return bytes.fromhex(settings.pseudonym_key_hex)
    path: Path = settings.pseudonym_key_file
    if not path.exists() and create_once(path, secrets.token_hex(MIN_KEY_BYTES).encode()):
        log.warning("made a new pseudonym key at %s; production sets SSBTEK_PSEUDONYM_KEY", path)
    return bytes.fromhex(path.read_text().strip())


def build_queries(
    settings: Settings,
    *,
    base_services: Mapping[Provider, BaseService] | None = None,
    clock: Clock | None = None,
    access_policy: AccessPolicy | None = None,
    metrics: Metrics | None = None,
    checkpoints: Checkpoints | None = None,
    saga: SagaSettings | None = None,
) -> Queries:
    """The Queries application on the configured store and base services."""
    return Queries(
        access_policy=access_policy,
        metrics=metrics,
        checkpoints=checkpoints,
        rate_limiter=MovingWindowPerOrganisation(settings.rate_limit)
        if settings.rate_limit
        else None,
        env=persistence_env(settings, "queries"),
        base_services=base_services
        if base_services is not None
        else load_base_services(settings.providers, settings.provider_options),
        clock=clock or SystemClock(),
        pseudonymiser=HmacPseudonymiser(pseudonym_key(settings)),
        transcodings=query_transcodings(),
        settings=saga
        or SagaSettings(
            budget_fraction=settings.budget_fraction,
            max_in_flight=settings.max_in_flight,
            guards=settings.provider_guards,
        ),
    )
