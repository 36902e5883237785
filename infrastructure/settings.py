"""Settings: the ONE module that reads the environment.

Every ``SSBTEK_*`` variable is read here into an explicit ``Settings`` value; the
composition root builds everything from it, and command-line options override it.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import attrs

from domain.identity import OrganisationNumber
from infrastructure.audit_settings import AuditSettings, audit_settings_from_environ


class Store(enum.Enum):
    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@attrs.frozen
class PostgresSettings:
    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "ssbtek"
    user: str = "postgres"
    password: str = attrs.field(default="", repr=False)
    schema: str = ""
    pool_size: int = 5
    max_overflow: int = 10
    connect_timeout_s: int = 5
    pre_ping: bool = True
    """Check a pooled connection before use: recovers after a database restart."""


@attrs.frozen
class Settings:
    store: Store = Store.SQLITE
    data_dir: Path = Path("var")
    postgres: PostgresSettings = PostgresSettings()
    listen: str = "127.0.0.1:50051"
    providers: str = "simulated"
    provider_options: Mapping[str, str] = attrs.field(factory=dict)
    pseudonym_key_hex: str = attrs.field(default="", repr=False)
    budget_fraction: float = 0.8
    max_in_flight: int = 400
    rate_limit: str = "50/second"
    """Per organisation, in the ``limits`` library's notation; empty for none."""
    access_decision_ttl_s: float = 1.0
    """How long an access decision is reused. A party or caseworker change saved in this
    process applies at once; one saved by another process, within this time. 0: never."""
    soap_listen: str = ""
    """Where the SSBTEK v10 SOAP facade listens (``host:port``); empty: not started (ADR 19)."""
    metrics_listen: str = "127.0.0.1:9464"
    """Where Prometheus scrapes ``/metrics``; empty for no endpoint."""
    log_level: str = "INFO"
    log_format: str = "json"
    mode: str = "development"
    """``production`` turns server reflection off and requires mutual TLS."""
    tls_certificate: Path | None = None
    tls_private_key: Path | None = None
    tls_client_ca: Path | None = None
    """With all three set, the gRPC port speaks mutual TLS only."""
    audit: AuditSettings = attrs.field(factory=AuditSettings)
    create_tables: bool = True
    """Whether opening a store creates its tables (the library's ``CREATE_TABLE``). Not a
    variable: ``ssbtek serve --workers N`` creates them once and opens its workers'
    stores without, since N processes running the same DDL at once fail (PostgreSQL:
    "tuple concurrently updated"; SQLite: locked)."""
    singletons: bool = True
    """Whether this node runs what must run once for all nodes on one database: the event
    followers (automatic incidents, the deadline check) and the audit sealer, in its first
    worker. ``SSBTEK_SINGLETONS=off`` on every node but one (ADR 13)."""
    administrators: frozenset[str] = frozenset({"2021005521", "2220000315"})
    """Organisations whose certificates may call the administration services: by default
    the operator (Försäkringskassan) and SKR."""

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def tls(self) -> bool:
        return None not in (self.tls_certificate, self.tls_private_key, self.tls_client_ca)

    def sqlite_file(self, application: str) -> Path:
        """One SQLite file per application in the data directory."""
        return self.data_dir / f"{application}.sqlite3"

    @property
    def pseudonym_key_file(self) -> Path:
        return self.data_dir / "pseudonym.key"


def parse_options(text: str) -> dict[str, str]:
    """``"latency=demo,seed=7"`` -> ``{"latency": "demo", "seed": "7"}``."""
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise ValueError("provider options must look like key=value,key=value")
        options[key.strip()] = value.strip()
    return options


_TRUE: Final = frozenset({"1", "y", "yes", "true", "on"})
_FALSE: Final = frozenset({"0", "n", "no", "false", "off"})


def _flag(name: str, value: str | None, default: bool) -> bool:
    """On or off; anything else is an error, so a typo cannot turn a switch off."""
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(f"{name} must be on or off (also: yes/no, true/false, 1/0)")
    return word in _TRUE


def _organisations(value: str | None, default: frozenset[str]) -> frozenset[str]:
    if value is None or not value.strip():
        return default
    return frozenset(
        OrganisationNumber.parse(item).digits for item in value.split(",") if item.strip()
    )


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds") from None
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name} must be 0 or a positive number of seconds")
    return seconds


def _listen(name: str, value: str) -> str:
    """Empty, or ``host:port`` with a port from 0 to 65535."""
    if not value.strip():
        return ""
    host, separator, port = value.strip().rpartition(":")
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{name} must be host:port, e.g. 127.0.0.1:8088")
    return value.strip()


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


UNSAFE_DB_FUNCTIONS = (
    "SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS is not supported: the event store names its insert "
    "function per schema, not per table, so with the service's several applications in one "
    "schema each would write into the last one's table; and that function inserts without "
    "the table lock that keeps notification ids in commit order for the followers (ADR 13)"
)


def from_environ(environ: Mapping[str, str]) -> Settings:
    """Settings from ``SSBTEK_*`` variables; anything unset keeps its default."""
    get = environ.get
    defaults = Settings()
    pg = PostgresSettings()
    if _flag(
        "SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS", get("SSBTEK_POSTGRES_ENABLE_DB_FUNCTIONS"), False
    ):
        raise ValueError(UNSAFE_DB_FUNCTIONS)
    return Settings(
        store=Store(get("SSBTEK_STORE", defaults.store.value)),
        data_dir=Path(get("SSBTEK_DATA_DIR", str(defaults.data_dir))),
        postgres=PostgresSettings(
            host=get("SSBTEK_POSTGRES_HOST", pg.host),
            port=int(get("SSBTEK_POSTGRES_PORT", str(pg.port))),
            dbname=get("SSBTEK_POSTGRES_DBNAME", pg.dbname),
            user=get("SSBTEK_POSTGRES_USER", pg.user),
            password=get("SSBTEK_POSTGRES_PASSWORD", pg.password),
            schema=get("SSBTEK_POSTGRES_SCHEMA", pg.schema),
            pool_size=int(get("SSBTEK_POSTGRES_POOL_SIZE", str(pg.pool_size))),
            pre_ping=_flag(
                "SSBTEK_POSTGRES_PRE_PING", get("SSBTEK_POSTGRES_PRE_PING"), pg.pre_ping
            ),
        ),
        listen=get("SSBTEK_LISTEN", defaults.listen),
        providers=get("SSBTEK_PROVIDERS", defaults.providers),
        provider_options=parse_options(get("SSBTEK_PROVIDER_OPTIONS", "")),
        pseudonym_key_hex=get("SSBTEK_PSEUDONYM_KEY", ""),
        budget_fraction=float(get("SSBTEK_BUDGET_FRACTION", str(defaults.budget_fraction))),
        max_in_flight=int(get("SSBTEK_MAX_IN_FLIGHT", str(defaults.max_in_flight))),
        rate_limit=get("SSBTEK_RATE_LIMIT", defaults.rate_limit),
        access_decision_ttl_s=_seconds(
            "SSBTEK_ACCESS_DECISION_TTL",
            get("SSBTEK_ACCESS_DECISION_TTL", str(defaults.access_decision_ttl_s)),
        ),
        soap_listen=_listen("SSBTEK_SOAP_LISTEN", get("SSBTEK_SOAP_LISTEN", "")),
        metrics_listen=get("SSBTEK_METRICS_LISTEN", defaults.metrics_listen),
        log_level=get("SSBTEK_LOG_LEVEL", defaults.log_level),
        log_format=get("SSBTEK_LOG_FORMAT", defaults.log_format),
        mode=get("SSBTEK_MODE", defaults.mode),
        tls_certificate=_path(get("SSBTEK_TLS_CERTIFICATE")),
        tls_private_key=_path(get("SSBTEK_TLS_PRIVATE_KEY")),
        tls_client_ca=_path(get("SSBTEK_TLS_CLIENT_CA")),
        audit=audit_settings_from_environ(environ),
        singletons=_flag("SSBTEK_SINGLETONS", get("SSBTEK_SINGLETONS"), defaults.singletons),
        administrators=_organisations(get("SSBTEK_ADMINS"), defaults.administrators),
    )


class SettingsError(ValueError):
    """A malformed ``SSBTEK_*`` variable: the message names it."""


def load() -> Settings:
    """Settings from this process's environment; ``SettingsError`` when one is malformed."""
    try:
        return from_environ(os.environ)
    except ValueError as error:
        raise SettingsError(str(error)) from None
