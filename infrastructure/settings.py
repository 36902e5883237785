"""Settings: the ONE module that reads the environment.

Every ``SSBTEK_*`` variable is declared here (or in ``audit_settings``) as an attribute of
``Settings``, with the type that says what it accepts; ``infrastructure/variables.py``
reads them all through one pydantic-settings model (ADR 16). The composition root builds
everything from the ``Settings`` value; ``ssbtek serve`` options override variables.

To add a variable: add the attribute here with ``variable(default, "meaning")`` and a type
that allows only good values, run ``make config-docs`` for the README's table, done.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Final

import attrs
import pydantic

from adapters.security.pseudonymiser import MIN_KEY_BYTES
from application.provider_guard import GuardSettings
from domain.providers import Provider
from infrastructure.audit_settings import AuditSettings
from infrastructure.cli_light import SettingsError, Store
from infrastructure.variables import (
    Allowed,
    HexKey,
    HostPort,
    Name,
    OptionalHostPort,
    Options,
    Organisations,
    RateLimit,
    Switch,
    Text,
    group,
    parse_options,
    schema,
    variable,
)

__all__ = ["SettingsError", "Store", "parse_options"]


class Mode(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


AnyCaseLogLevel = Annotated[
    LogLevel, pydantic.BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)
]

UNSAFE_DB_FUNCTIONS = (
    "is not supported: the event store names its insert function per schema, not per table, "
    "so with the service's several applications in one schema each would write into the last "
    "one's table; and that function inserts without the table lock that keeps notification "
    "ids in commit order for the followers (ADR 13)"
)


def _refuse_db_functions(value: bool) -> bool:
    if value:
        raise ValueError(UNSAFE_DB_FUNCTIONS)
    return value


@attrs.frozen
class PostgresSettings:
    host: Text = variable("127.0.0.1", "PostgreSQL server (psycopg 3 pool)")
    port: Annotated[int, pydantic.Field(ge=1, le=65535)] = variable(5432, "its port")
    dbname: Text = variable(
        "ssbtek",
        "the database; it must exist (`createdb -h 127.0.0.1 -U postgres ssbtek`)",
        option="--postgres-dbname",
    )
    user: Text = variable("postgres", "the user")
    password: str = variable("", "the user's password", secret=True)
    schema: Name = variable("", "the schema of the tables", empty="the user's default")
    pool_size: Annotated[int, pydantic.Field(ge=1)] = variable(
        5, "connections of the busy query store (the others: one each, more on demand)"
    )
    max_overflow: int = 10
    connect_timeout_s: int = 5
    pre_ping: Switch = variable(
        False,
        "check a pooled connection before use (not the query store, which writes once more "
        "on a fresh connection instead); when on, psycopg_pool waits 1 s, 2 s, 4 s... between "
        "failed checks, so killed connections cost seconds (ADR 23)",
    )
    """Check a pooled connection before use (the stores other than the query store)."""
    wait_at_start: Switch = variable(
        True,
        "`ssbtek serve` with the database unreachable: wait for it (a log line per attempt, "
        "1 s doubling to 30 s between attempts); off: exit at once with one line, code 2",
    )
    enable_db_functions: Annotated[Switch, pydantic.AfterValidator(_refuse_db_functions)] = (
        variable(False, "the event store's insert functions: refused (ADR 13)")
    )


def _provider_shares(value: object) -> object:
    """``CSN=0.5,TRANSPORTSTYRELSEN=0.3`` -> ``((Provider.CSN, 0.5), ...)``."""
    if not isinstance(value, str):
        return value
    shares: list[tuple[Provider, float]] = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, share = item.partition("=")
        if name.strip().upper() not in Provider.__members__ or not share.strip():
            raise ValueError(
                f"must look like PROVIDER=share,... with providers among "
                f"{', '.join(Provider.__members__)}"
            )
        try:
            number = float(share)
        except ValueError:
            raise ValueError(f"{name.strip()}: the share must be a positive number") from None
        if not 0 < number < float("inf"):
            raise ValueError(f"{name.strip()}: the share must be a positive number")
        shares.append((Provider[name.strip().upper()], number))
    return tuple(shares)


ProviderShares = Annotated[
    tuple[tuple[Provider, float], ...],
    pydantic.BeforeValidator(_provider_shares),
    Allowed("`PROVIDER=share,...`"),
]

_GUARDS: Final = GuardSettings()

ADMINISTRATORS: Final = frozenset({"2021005521", "2220000315"})
"""The operator (Försäkringskassan) and SKR."""


@attrs.frozen
class Settings:
    store: Store = variable(Store.SQLITE, "where the events are stored", option="--store")
    data_dir: Path = variable(
        Path("var"),
        "the SQLite files (one per application: `queries.sqlite3`, ...); in development also "
        "the pseudonym key and the audit seal key, made once there",
        option="--data-dir",
    )
    postgres: PostgresSettings = group(PostgresSettings)
    listen: HostPort = variable("127.0.0.1:50051", "gRPC address", option="--listen, --port")
    providers: Text = variable(
        "simulated", "the base-service adapter (entry point)", option="--providers"
    )
    provider_options: Options = variable(
        factory=dict,
        meaning="`key=value,...` for that adapter (see the simulated base services)",
        option="--provider-options",
    )
    pseudonym_key_hex: Annotated[str, HexKey(MIN_KEY_BYTES)] = variable(
        "",
        f"HMAC key for caseworker pseudonyms and request ids, {MIN_KEY_BYTES * 2} hex digits "
        "or more; production needs it",
        name="SSBTEK_PSEUDONYM_KEY",
        secret=True,
        shown_default="development: made once in the data dir",
    )
    budget_fraction: Annotated[float, pydantic.Field(gt=0, le=1)] = variable(
        0.8, "share of the service level given to the providers"
    )
    max_in_flight: Annotated[int, pydantic.Field(ge=1)] = variable(
        400,
        "the ceiling of queries in progress: the adaptive limit stays below it (ADR 26); a "
        "query beyond the limit, or beyond its organisation's share of it while others ask, "
        "gets `RESOURCE_EXHAUSTED` at once",
    )
    admission_delay_target_s: Annotated[float, pydantic.Field(gt=0, le=1, allow_inf_nan=False)] = (
        variable(
            0.005,
            "seconds of event-loop delay above which the machine counts as saturated and the "
            "limit of queries in progress shrinks (ADR 26)",
            name="SSBTEK_ADMISSION_DELAY_TARGET",
        )
    )
    rate_limit: RateLimit = variable(
        "50/second",
        "per asking organisation (`limits` notation, e.g. `600/minute`)",
        empty="no limit",
    )
    """Per organisation, in the ``limits`` library's notation; empty for none."""
    access_decision_ttl_s: Annotated[float, pydantic.Field(ge=0)] = variable(
        1.0,
        "seconds an access decision (party connected, caseworker authorised) is reused; a "
        "change saved in the same process applies at once, one saved by another worker or "
        "node within this time; `0`: decide every query",
        name="SSBTEK_ACCESS_DECISION_TTL",
    )
    """How long an access decision is reused. A party or caseworker change saved in this
    process applies at once; one saved by another process, within this time. 0: never."""
    soap_listen: OptionalHostPort = variable(
        "",
        "where the SSBTEK v10 SOAP facade listens, `host:port` (ADR 19; `make run` sets it)",
        empty="not started",
    )
    metrics_listen: OptionalHostPort = variable(
        "127.0.0.1:9464",
        "Prometheus `/metrics` (with `--workers N`, worker i on port + i)",
        option="--metrics-listen",
        empty="no endpoint",
    )
    """Where Prometheus scrapes ``/metrics``; empty for no endpoint."""
    log_level: AnyCaseLogLevel = variable(LogLevel.INFO, "log level (any case)")
    log_format: LogFormat = variable(
        LogFormat.JSON, "how log lines are written: one JSON object each, or text for people"
    )
    mode: Mode = variable(
        Mode.DEVELOPMENT,
        "`production`: mutual TLS, the seal key and the pseudonym key required, reflection off",
    )
    """``production`` turns server reflection off and requires mutual TLS."""
    tls_certificate: Path | None = variable(None, "the server's certificate (PEM)")
    tls_private_key: Path | None = variable(None, "its private key (PEM)")
    tls_client_ca: Path | None = variable(
        None, "the CA that issues the case systems' client certificates (PEM)"
    )
    """With all three set, the gRPC port speaks mutual TLS only."""
    tls_crl: Path | None = variable(
        None,
        "the client CA's certificate revocation list (PEM or DER, signed by that CA); read "
        "again when the file changes, so a revoked certificate's next call is refused (ADR 25)",
        empty="no revocation list",
    )
    audit: AuditSettings = group(AuditSettings)
    create_tables: bool = True
    """Whether opening a store creates its tables (the library's ``CREATE_TABLE``). Not a
    variable: ``ssbtek serve --workers N`` creates them once and opens its workers'
    stores without, since N processes running the same DDL at once fail (PostgreSQL:
    "tuple concurrently updated"; SQLite: locked)."""
    singletons: Switch = variable(
        True,
        "whether this node may hold the background roles (event followers with automatic "
        "incidents, deadline check, audit sealer, recovery): the process holding the lease "
        "runs them; `off` excludes this node, it never runs them (ADR 13)",
    )
    """Whether this node's processes are candidates for the background roles, which one
    process of all the nodes on one store runs at a time, by a lease (ADR 13). ``off``
    excludes the node; a configuration with ``off`` on all nodes but one still works (that
    node alone can take the roles, so nothing fails over)."""
    roles_lease_s: Annotated[float, pydantic.Field(ge=2, le=120, allow_inf_nan=False)] = variable(
        10.0,
        "seconds of the background roles' lease: a holder that has not renewed it for 3/4 of "
        "this stops them, and another node takes over within 1.25 times this after the holder "
        "dies or loses the database, within a quarter of this after it stops (ADR 13)",
        name="SSBTEK_ROLES_LEASE",
    )
    provider_peak_rate: Annotated[float, pydantic.Field(gt=0, allow_inf_nan=False)] = variable(
        _GUARDS.peak_call_rate,
        "calls a second each provider's bulkhead is sized for: its limit of calls in progress is "
        "rate x share x the budget for one subject (140 by default, at least 20); calls beyond "
        "fail at once, SSBT `TOO_MANY_CALLS` (ADR 20)",
    )
    provider_shares: ProviderShares = variable(
        (),
        "per provider, its share of the peak rate (1 for any not named)",
        empty="1 for every provider",
    )
    breaker_failures: Annotated[int, pydantic.Field(ge=1)] = variable(
        _GUARDS.failures_to_open,
        "time-outs or connection failures in a row that open a provider's circuit breaker; its "
        "calls then fail at once (SSBT `UNAVAILABLE`, since when)",
    )
    breaker_cool_down_s: Annotated[float, pydantic.Field(gt=0, allow_inf_nan=False)] = variable(
        _GUARDS.cool_down_s,
        "seconds an open breaker refuses calls before one probe goes through",
        name="SSBTEK_BREAKER_COOL_DOWN",
    )
    administrators: Organisations = variable(
        ADMINISTRATORS,
        "organisations whose certificates may call the party, agreement, incident and "
        "escalation services (the operator and SKR)",
        name="SSBTEK_ADMINS",
    )
    """Organisations whose certificates may call the administration services: by default
    the operator (Försäkringskassan) and SKR."""

    @property
    def provider_guards(self) -> GuardSettings:
        """Each provider's bulkhead and circuit breaker (ADR 20)."""
        return attrs.evolve(
            _GUARDS,
            peak_call_rate=self.provider_peak_rate,
            shares=self.provider_shares,
            failures_to_open=self.breaker_failures,
            cool_down_s=self.breaker_cool_down_s,
        )

    @property
    def production(self) -> bool:
        return self.mode == Mode.PRODUCTION

    @property
    def tls(self) -> bool:
        return None not in (self.tls_certificate, self.tls_private_key, self.tls_client_ca)

    def sqlite_file(self, application: str) -> Path:
        """One SQLite file per application in the data directory."""
        return self.data_dir / f"{application}.sqlite3"

    @property
    def pseudonym_key_file(self) -> Path:
        return self.data_dir / "pseudonym.key"


PROVIDER_GROUP: Final = "ssbtek.providers"
OPTION_CHECK: Final = "option_problems"
"""An adapter's module may define ``option_problems(options) -> list[str]``: one line per
bad option, naming it. ``ssbtek serve`` calls it before it starts (both shipped adapters do);
an adapter without it checks its options when it is built."""


def from_environ(environ: Mapping[str, str], options: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``SSBTEK_*`` variables, ``options`` (by variable name) over them;
    anything unset keeps its default. ``SettingsError`` lists every malformed value."""
    settings: Settings = schema(Settings).read(environ, options=options or {})
    return settings


def load(options: Mapping[str, str] | None = None) -> Settings:
    """Settings from this process's environment; ``SettingsError`` when one is malformed."""
    return from_environ(os.environ, options)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning line for each ``SSBTEK_*`` variable that no setting reads."""
    return schema(Settings).unknown(os.environ if environ is None else environ)


def check(settings: Settings, options: Mapping[str, str] | None = None) -> list[str]:
    """What ``ssbtek serve`` refuses beyond single values: missing or unreadable files, the
    TLS files apart, production without its keys, options the adapter does not take.
    One line per problem, naming the variable (or the option that set it)."""
    from adapters.security.signing import load_public_key, load_signing_key  # cryptography
    from infrastructure.tls_check import tls_problems

    label = functools.partial(schema(Settings).label, options=options or {})
    problems: list[str] = []
    tls = {
        "SSBTEK_TLS_CERTIFICATE": settings.tls_certificate,
        "SSBTEK_TLS_PRIVATE_KEY": settings.tls_private_key,
        "SSBTEK_TLS_CLIENT_CA": settings.tls_client_ca,
    }
    unset = [name for name, path in tls.items() if path is None]
    if settings.production and unset:
        problems += [f"{name}: production mode needs mutual TLS: set it" for name in unset]
    elif 0 < len(unset) < len(tls):
        problems += [f"{name}: the three TLS files go together: set it too" for name in unset]
    problems += tls_problems(settings)  # each file read and checked (ADR 25)
    audit = settings.audit
    problems += _file_problems(
        "SSBTEK_AUDIT_SIGNING_KEY_FILE", audit.signing_key_file, load_signing_key
    )
    for path in audit.trusted_public_keys:
        problems += _file_problems("SSBTEK_AUDIT_TRUSTED_KEYS", path, load_public_key)
    if settings.production and not (audit.signing_key_hex or audit.signing_key_file):
        problems.append(
            "SSBTEK_AUDIT_SIGNING_KEY_FILE: production mode needs the seal signing key "
            "(or SSBTEK_AUDIT_SIGNING_KEY)"
        )
    if settings.production and not settings.pseudonym_key_hex:
        problems.append(
            "SSBTEK_PSEUDONYM_KEY: production mode needs it (hex, never in the data dir)"
        )
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        problems.append(f"{label('SSBTEK_DATA_DIR')}: {settings.data_dir} is not a directory")
    problems += _provider_problems(settings, label)
    return problems


def _file_problems(
    name: str, path: Path | None, read: Callable[[bytes], object] | None = None
) -> list[str]:
    from adapters.security.signing import KeyFormatError

    if path is None:
        return []
    if not path.is_file():
        return [f"{name}: no such file: {path}"]
    try:
        data = path.read_bytes()
    except OSError as error:
        return [f"{name}: cannot read {path}: {error.strerror}"]
    if read is not None:
        try:
            read(data)
        except KeyFormatError as error:
            return [f"{name}: {path}: {error}"]
    return []


def _provider_problems(settings: Settings, label: Callable[[str], str]) -> list[str]:
    installed = {ep.name: ep for ep in entry_points(group=PROVIDER_GROUP)}
    if settings.providers not in installed:
        return [
            f"{label('SSBTEK_PROVIDERS')}: no base-service adapter named "
            f"{settings.providers!r}; installed: {', '.join(sorted(installed)) or 'none'}"
        ]
    factory = installed[settings.providers].load()
    option_check = getattr(sys.modules[factory.__module__], OPTION_CHECK, None)
    if option_check is None:
        return []
    where = label("SSBTEK_PROVIDER_OPTIONS")
    return [f"{where}: {line}" for line in option_check(settings.provider_options)]
