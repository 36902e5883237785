"""The composition root: the one module that builds the applications and their adapters.

Everything is built here from explicit settings, nothing at import time, and nothing
elsewhere: ``ssbtek serve`` (``build_service`` and ``build_grpc_server``, after ``prepare``
when several workers share a store), the auditor's offline commands (``open_audit_copy``),
the benchmarks and the tests all take their parts from here (ADR 17).

    service = build_service(settings)            # the applications, their adapters and jobs
    server, port = await build_grpc_server(service, settings)
    ...
    service.close()

Base-service adapters are found through the ``ssbtek.providers`` entry-point group, so a
real provider adapter plugs in from its own package without a change here (see README,
"Plugging in a real base service"). Which store each application opens is
``infrastructure.stores``; the keys are read by ``infrastructure.key_files``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, TypeVar
from uuid import UUID

import attrs
import grpc
from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    TrackingRecorder,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import Environment
from grpc_health.v1 import health
from prometheus_client import CollectorRegistry

from adapters.calendar.swedish_holidays import SwedishHolidays
from adapters.grpc.admission import AdmissionInterceptor
from adapters.grpc.agreement_servicer import AGREEMENT_SERVICE
from adapters.grpc.audit_servicer import AUDIT_SERVICE, register_audit_service
from adapters.grpc.authorisation import AdministratorsOnly, AuditorsOnly
from adapters.grpc.identity import CallerInterceptor
from adapters.grpc.party_servicer import PARTY_SERVICE, register_party_services
from adapters.grpc.server import ServiceRegistration, build_server
from adapters.grpc.server_loop import OnApplicationLoop
from adapters.grpc.service_management import (
    ESCALATION_SERVICE,
    INCIDENT_SERVICE,
    register_service_management,
)
from adapters.grpc.store_health import StoreHealthReporter
from adapters.grpc.tls_reload import ReloadingServerCredentials
from adapters.loops import OnLoop, Runs, ServerLoop
from adapters.metrics.prometheus import PrometheusMetrics
from adapters.metrics.rate_limit import MovingWindowPerOrganisation
from adapters.persistence.file_lease import FileLease, HeldLease
from adapters.persistence.report_counts import PostgresReportCounts, SQLiteReportCounts
from adapters.persistence.stored_format import LibraryJsonFormat
from adapters.persistence.transcodings import (
    escalation_transcodings,
    incident_transcodings,
    party_transcodings,
    query_transcodings,
)
from adapters.security.caller_identity import CallerIdentity
from adapters.security.pseudonymiser import HmacPseudonymiser
from adapters.security.revocation import RevocationList
from adapters.security.signing import Ed25519Signer, Ed25519Verifier
from adapters.system_clock import SystemClock
from application.admission import Admission, AdmissionMetrics, AdmissionSettings
from application.agreements import Agreements
from application.audit.party_names import PartyNames
from application.audit.ports import EventLog
from application.audit.replay import Replay, organisations_of
from application.audit.replay_index import PositionIndex, ReplayIndexer
from application.audit.report import MonthlyReports
from application.audit.report_projection import (
    CountedMonthlyReports,
    ReportCountsFollower,
    ReportCountsView,
)
from application.audit.report_sources import ReportSources
from application.audit.sealer import run_sealer, seal_now
from application.audit.seals import AuditSeals
from application.audit.trail import AuditTrail
from application.audit.verification import NoSeals, SealSource
from application.demo import onboard_municipality, seed_demo
from application.escalations import Escalations
from application.incidents import Incidents, RecordedBreach
from application.log_reader import BATCH, StoredFormat
from application.parties import Parties
from application.planned_changes import PlannedChanges
from application.ports import AccessPolicy, BaseService, Checkpoints, Clock, Metrics, Pseudonymiser
from application.queries import Queries, SagaSettings
from application.running_time import RunTimeRecorder, ServiceRuns
from application.service_management_report import ServiceManagementFigures
from domain.business_hours import BusinessHours
from domain.calendar import HolidayCalendar, WorkingCalendar
from domain.incident.service_levels import Priority
from domain.party.rules import local_date
from domain.providers import Provider
from infrastructure.key_files import pseudonym_key, signing_key, trusted_keys
from infrastructure.roles import Lease
from infrastructure.scheduler import run_periodically
from infrastructure.settings import Settings, Store
from infrastructure.stores import persistence_env, read_only_env, read_only_sessions

if TYPE_CHECKING:
    from adapters.providers.v10.simulators import ProviderSimulators

log = logging.getLogger(__name__)

PROVIDER_GROUP: Final = "ssbtek.providers"
SEALS_STORE: Final = "auditseals"
"""``AuditSeals.name.lower()``: ``auditseals.sqlite3``, or the table ``auditseals_events``."""
ROLES_LOCK: Final = "background-roles.lock"
"""SQLite: the file whose lock holds the background roles, in the data directory (ADR 13)."""
RUNS_STORE: Final = "serviceruns"
"""``ServiceRuns.name.lower()``: ``serviceruns.sqlite3``, or the table ``serviceruns_events``."""
AUDITED: Final = ("queries", "parties", "agreements", "incidents", "escalations", "serviceruns")
"""The logs of the service, by store name (an application's ``name`` in lower case)."""
ADMINISTRATION_SERVICES: Final = frozenset(
    {PARTY_SERVICE, AGREEMENT_SERVICE, INCIDENT_SERVICE, ESCALATION_SERVICE}
)
"""The services only ``SSBTEK_ADMINS`` may call, by their descriptors' full names."""
FOLLOW_INTERVAL_S: Final = 2.0
BREACH_INTERVAL_S: Final = 60.0


def working_hours(holidays: HolidayCalendar | None = None) -> BusinessHours:
    """Opening hours: Monday-Friday 08:00-17:00 Stockholm, no Swedish public holidays."""
    return BusinessHours(WorkingCalendar(holidays or SwedishHolidays()))


# --- the query saga ------------------------------------------------------------------------


def load_base_services(name: str, options: Mapping[str, str]) -> dict[Provider, BaseService]:
    """Build the base services from the entry point ``name`` of group ``ssbtek.providers``."""
    found = {ep.name: ep for ep in entry_points(group=PROVIDER_GROUP)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ValueError(f"no base-service adapter named {name!r} (installed: {known})")
    factory = found[name].load()
    base_services: dict[Provider, BaseService] = factory(options)
    return base_services


def build_provider_simulators(
    options: Mapping[str, str], tls: ssl.SSLContext | None
) -> ProviderSimulators:
    """The SIMULATED base services on the wire (``ssbtek simulate-providers``, ADR 22).

    Imported here, not at the top: the other commands start without the simulators' XML
    and HTTP stack."""
    from adapters.providers.v10.simulators import ProviderSimulators

    return ProviderSimulators(options, tls=tls)


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
        store_probe=store_probe(settings),
    )


def store_probe(settings: Settings) -> Callable[[], object] | None:
    """Whether the store can be written (ADR 23): on PostgreSQL a connection of its own that
    asks ``pg_is_in_recovery()``; elsewhere the application's own read (None)."""
    if settings.store is not Store.POSTGRES:
        return None
    from adapters.persistence.postgres_probe import PostgresProbe  # psycopg: only for postgres

    pg = settings.postgres
    return PostgresProbe(
        host=pg.host, port=pg.port, dbname=pg.dbname, user=pg.user, password=pg.password
    )


def store_health(queries: Queries, metrics: PrometheusMetrics) -> StoreHealthReporter:
    """Health and the ``ssbtek_store_up`` gauge follow the query store's gate (ADR 23)."""
    gate = queries.store_gate
    metrics.gauge_per_label(
        "ssbtek_store_up",
        "1 while the event store can be written, 0 while it cannot (queries are refused "
        "UNAVAILABLE and health says NOT_SERVING).",
        "store",
        lambda: {"queries": 0.0 if gate.is_open else 1.0},
    )
    return StoreHealthReporter(gate.add_listener)


def build_admission(
    settings: Settings, *, clock: Clock, metrics: AdmissionMetrics | None = None
) -> Admission:
    """Admission control (ADR 26), shared by the gRPC interceptor and the SOAP endpoint:
    the adaptive limit below ``SSBTEK_MAX_IN_FLIGHT``, fair shares, RetryInfo."""
    return Admission(
        AdmissionSettings(
            ceiling=settings.max_in_flight, delay_target_s=settings.admission_delay_target_s
        ),
        monotonic=clock.monotonic,
        metrics=metrics,
    )


# --- parties and the agreement -------------------------------------------------------------


def build_parties(
    settings: Settings, *, clock: Clock, pseudonymiser: Pseudonymiser
) -> tuple[Parties, Agreements]:
    """The Parties application (also the query saga's ``AccessPolicy``) and Agreements."""
    parties = Parties(
        env=persistence_env(settings, "parties"),
        clock=clock,
        pseudonymiser=pseudonymiser,
        calendar=WorkingCalendar(SwedishHolidays()),
        transcodings=party_transcodings(),
        decision_ttl_s=settings.access_decision_ttl_s,
    )
    agreements = Agreements(
        env=persistence_env(settings, "agreements"),
        clock=clock,
        directory=parties,
        transcodings=party_transcodings(),
    )
    return parties, agreements


# --- service management --------------------------------------------------------------------


@attrs.frozen
class ServiceManagement:
    """``Incidents`` (with its planned changes) and ``Escalations``, the clock they share, and
    the jobs to schedule. ``Incidents`` follows the ``Queries`` log when wired to it; the
    jobs run the synchronous store work in a worker thread."""

    incidents: Incidents
    changes: PlannedChanges
    escalations: Escalations
    clock: Clock

    async def process_queries(self) -> None:
        """Open, update and clear automatic incidents from the new query events."""
        await asyncio.to_thread(self.incidents.process_queries)

    async def record_breaches(self) -> list[RecordedBreach]:
        """Record the deadlines that have passed unmet, by the clock's time now."""
        return await asyncio.to_thread(self.incidents.record_breaches, self.clock.now())

    async def run(
        self,
        stop: asyncio.Event,
        *,
        follow_interval_s: float = FOLLOW_INTERVAL_S,
        breach_interval_s: float = BREACH_INTERVAL_S,
    ) -> None:
        """Both jobs until ``stop`` is set (following the queries only when wired to them)."""
        jobs = [run_periodically(breach_interval_s, self._record_breaches, stop)]
        if self.incidents.follows_queries:
            jobs.append(run_periodically(follow_interval_s, self.process_queries, stop))
        await asyncio.gather(*jobs)

    async def _record_breaches(self) -> None:
        await self.record_breaches()

    def report_sources(self) -> ReportSources:
        """The monthly report's service-management sections."""
        return ServiceManagementFigures(self.incidents, self.changes).sources()

    def registrations(self) -> list[ServiceRegistration]:
        """The incident and escalation services, for ``build_server``."""
        return register_service_management(self.incidents, self.escalations, self.changes)

    def close(self) -> None:
        self.incidents.close()
        self.escalations.close()


def build_service_management(
    settings: Settings,
    *,
    clock: Clock,
    queries: Queries | None = None,
    holidays: HolidayCalendar | None = None,
) -> ServiceManagement:
    """The applications on the configured store; ``Incidents`` follows ``queries`` if given."""
    incidents = Incidents(
        env=persistence_env(settings, "incidents"),
        clock=clock,
        hours=working_hours(holidays),
        transcodings=incident_transcodings(),
    )
    if queries is not None:
        incidents.follow_queries(queries)
    escalations = Escalations(
        env=persistence_env(settings, "escalations"),
        clock=clock,
        transcodings=escalation_transcodings(),
    )
    return ServiceManagement(incidents, PlannedChanges(incidents), escalations, clock)


# --- the audit trail of the running service ------------------------------------------------


def build_audit_seals(
    settings: Settings, *, clock: Clock, signer: Ed25519Signer | None
) -> AuditSeals:
    """The seals application on the configured store (``signer`` None: read only)."""
    return AuditSeals(env=persistence_env(settings, SEALS_STORE), clock=clock, signer=signer)


def audited(*applications: Application[UUID]) -> dict[str, Application[UUID]]:
    """The applications whose logs are sealed, by store name: ``{"queries": queries, ...}``."""
    return {application.name.lower(): application for application in applications}


def monthly_reports(
    logs: Mapping[str, EventLog],
    sources: ReportSources | None,
    clock: Clock,
    view: ReportCountsView | None = None,
) -> MonthlyReports | None:
    """The report over the Queries log and the records of running time (``serviceruns``)."""
    queries = logs.get("queries")
    if queries is None:
        return None
    if view is not None:  # from the projection's counters (ADR 27)
        return CountedMonthlyReports(
            queries,
            working_hours(),
            sources,
            view=view,
            running_time=logs.get("serviceruns"),
            clock=clock,
            stored=LibraryJsonFormat(),
        )
    return MonthlyReports(
        queries,
        working_hours(),
        sources,
        running_time=logs.get("serviceruns"),
        clock=clock,
        stored=LibraryJsonFormat(),
    )


def report_counts_view(queries: object, *, create_table: bool = True) -> ReportCountsView | None:
    """The monthly report's persisted counters beside the Queries log (ADR 27): on the same
    database as the log (PostgreSQL, or the SQLite file); ``None`` in memory or when the
    store cannot hold them (the report is then rebuilt from the events)."""
    datastore = getattr(getattr(queries, "factory", None), "datastore", None)
    view: PostgresReportCounts | SQLiteReportCounts
    if isinstance(datastore, PostgresDatastore):
        view = PostgresReportCounts(datastore)
    elif isinstance(datastore, SQLiteDatastore) and not datastore.pool.is_sqlite_memory_mode:
        view = SQLiteReportCounts(datastore)
    else:
        return None
    if create_table:
        view.create_table()
    return view


def build_replay(
    logs: Mapping[str, ApplicationRecorder],
    *,
    seek: bool = True,
    indexes: Mapping[str, PositionIndex] | None = None,
    batch: int = BATCH,
) -> Replay:
    """A replay of ``logs`` (``seek=False``: every log read from its start, for the benchmark's
    before-and-after of ADR 27; ``indexes``: the logs' indexes of positions by organisation)."""
    return Replay(logs, LibraryJsonFormat(), seek=seek, indexes=indexes, batch=batch)


def build_position_index(
    recorder: ApplicationRecorder, *, create: bool = False
) -> PositionIndex | None:
    """The index of positions by organisation of a log on SQLite or PostgreSQL (``None`` in
    memory); ``create``: create its table if missing (ADR 27)."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    from adapters.persistence import replay_positions  # psycopg: only on a durable store

    index: replay_positions.PostgresPositionIndex | replay_positions.SQLitePositionIndex
    if isinstance(recorder, SQLiteApplicationRecorder):
        index = replay_positions.SQLitePositionIndex(recorder)
    elif isinstance(recorder, PostgresApplicationRecorder):
        index = replay_positions.PostgresPositionIndex(recorder)
    else:
        return None
    if create:
        index.create_table()
    return index


def build_replay_indexer(
    recorder: ApplicationRecorder, index: PositionIndex | None
) -> ReplayIndexer | None:
    """The follower that keeps ``index`` up with ``recorder``'s log (ADR 27)."""
    if index is None:
        return None
    return ReplayIndexer(recorder, index, LibraryJsonFormat(), organisations_of)


def build_audit_trail(
    applications: Mapping[str, EventLog],
    seals: SealSource,
    verifier: Ed25519Verifier,
    *,
    clock: Clock,
    sources: ReportSources | None = None,
    report_view: ReportCountsView | None = None,
) -> AuditTrail:
    """The audit use cases over the running service's applications."""
    recorders = {name: application.recorder for name, application in applications.items()}
    return AuditTrail(
        recorders,
        seals,
        verifier,
        monthly_reports(applications, sources, clock, report_view),
        LibraryJsonFormat(),
        indexes=replay_indexes(recorders),
    )


def replay_indexes(
    logs: Mapping[str, ApplicationRecorder | None],
) -> dict[str, PositionIndex]:
    """The indexes of positions by organisation the replay reads (the Queries log's: the
    only log whose events name an organisation). A missing index table reads as empty, so
    the replay then reads the log as without it (ADR 27)."""
    recorder = logs.get("queries")
    index = build_position_index(recorder) if recorder is not None else None
    return {"queries": index} if index is not None else {}


def replay_index_role(queries: Queries, settings: Settings) -> Callable[[], int] | None:
    """One step of the follower that keeps the Queries log's index of positions by
    organisation (how many events it indexed); the first step that succeeds creates the
    index's table when the service creates tables. ``None`` in memory (ADR 27)."""
    index = build_position_index(queries.recorder)
    indexer = build_replay_indexer(queries.recorder, index)
    if index is None or indexer is None:
        return None
    created = not settings.create_tables

    def step() -> int:
        nonlocal created
        if not created:
            build_position_index(queries.recorder, create=True)
            created = True
        return indexer.catch_up()

    return step


@attrs.define
class Audit:
    """The audit trail of the running service: the seals, the sealer, and the gRPC service.

    The process holding the background roles runs the sealer until ``stop`` is set (after
    ``server.stop(grace)``; it seals once more, then returns); another process seals once with
    ``seal_now`` on shutdown only if it can take the lease then (``infrastructure.roles``).
    """

    seals: AuditSeals
    applications: dict[str, EventLog]
    trail: AuditTrail
    registration: ServiceRegistration
    interval_s: float

    async def run_sealer(self, stop: asyncio.Event) -> None:
        await run_sealer(self.seals, self.applications, self.interval_s, stop)

    async def seal_now(self) -> None:
        await seal_now(self.seals, self.applications)

    def close(self) -> None:
        self.seals.close()


def build_audit(
    settings: Settings,
    *,
    clock: Clock,
    applications: Mapping[str, EventLog],
    sources: ReportSources | None = None,
    report_view: ReportCountsView | None = None,
) -> Audit:
    """Everything the server needs for the audit trail, from ``Settings.audit``."""
    audit = settings.audit
    signer = Ed25519Signer(signing_key(settings, audit))
    seals = build_audit_seals(settings, clock=clock, signer=signer)
    verifier = Ed25519Verifier([signer.public_key, *trusted_keys(audit)])
    trail = build_audit_trail(
        applications, seals, verifier, clock=clock, sources=sources, report_view=report_view
    )
    return Audit(
        seals=seals,
        applications=dict(applications),
        trail=trail,
        registration=register_audit_service(trail),
        interval_s=audit.seal_interval_s,
    )


# --- the service's record of its own running time (ADR 12) ----------------------------------


def build_service_runs(settings: Settings, *, clock: Clock) -> ServiceRuns:
    """The records of the processes' running time, in their own store (``serviceruns``)."""
    return ServiceRuns(env=persistence_env(settings, RUNS_STORE), clock=clock)


def node_name(settings: Settings) -> str:
    """This node in the records: a keyed digest of the host's name (a host may be named after
    a person; the digest names it without saying it), the same on every start."""
    digest = hmac.new(pseudonym_key(settings), socket.gethostname().encode(), hashlib.sha256)
    return f"node-{digest.hexdigest()[:12]}"


# --- the background roles' lease (ADR 13) --------------------------------------------------


def build_role_lease(settings: Settings, *, create_table: bool | None = None) -> Lease | None:
    """The lease this process holds the background roles by; None when the node is excluded
    (``SSBTEK_SINGLETONS=off``). PostgreSQL: a lease row with a fencing token; SQLite: a
    file lock in the data directory; in memory: always held (the store is this process's)."""
    if not settings.singletons:
        return None
    holder = f"{node_name(settings)}/{os.getpid()}"
    ttl_s = settings.roles_lease_s
    if settings.store is Store.MEMORY:
        return HeldLease(holder=holder, ttl_s=ttl_s)
    if settings.store is Store.SQLITE:
        return FileLease(settings.data_dir / ROLES_LOCK, holder=holder, ttl_s=ttl_s)
    from adapters.persistence.postgres_lease import (  # psycopg: only on PostgreSQL
        PostgresConnection,
        PostgresLease,
    )

    pg = settings.postgres
    where = PostgresConnection(
        pg.host, pg.port, pg.dbname, pg.user, pg.password, pg.schema, pg.connect_timeout_s
    )
    return PostgresLease(
        where,
        holder=holder,
        ttl_s=ttl_s,
        create_table=settings.create_tables if create_table is None else create_table,
    )


# --- the whole service ---------------------------------------------------------------------


@attrs.define
class Service:
    """One process's service: its applications, their adapters, and the background jobs."""

    clock: Clock
    metrics: PrometheusMetrics
    parties: Parties
    agreements: Agreements
    queries: Queries
    management: ServiceManagement
    runs: ServiceRuns
    audit: Audit
    admission: Admission
    store_health: StoreHealthReporter | None = None
    """Health follows the store's state (ADR 23)."""
    report_counts: ReportCountsFollower | None = None
    """Keeps the monthly report's counters (a background role, ADR 27); ``None`` in memory."""

    def running_time(self, settings: Settings, *, worker: int) -> RunTimeRecorder:
        """This process's record of its running time: started, still up, stopped."""
        return RunTimeRecorder(self.runs, node=node_name(settings), worker=worker)

    def registrations(self) -> list[ServiceRegistration]:
        """The services beside the query service, for ``build_server``."""
        return [
            *register_party_services(self.parties, self.agreements),
            *self.management.registrations(),
            self.audit.registration,
        ]

    def close(self) -> None:
        for part in (
            self.management,
            self.queries,
            self.agreements,
            self.parties,
            self.runs,
            self.audit,
            self.admission,
        ):
            part.close()


def _applications(
    settings: Settings, clock: Clock, metrics: Metrics | None = None
) -> tuple[Parties, Agreements, Queries, ServiceManagement]:
    pseudonymiser = HmacPseudonymiser(pseudonym_key(settings))
    parties, agreements = build_parties(settings, clock=clock, pseudonymiser=pseudonymiser)
    queries = build_queries(settings, metrics=metrics, clock=clock, access_policy=parties)
    management = build_service_management(settings, clock=clock, queries=queries)
    return parties, agreements, queries, management


def build_service(settings: Settings) -> Service:
    """The service on the configured store, base services and keys (not yet serving)."""
    clock = SystemClock()
    metrics = PrometheusMetrics(CollectorRegistry())
    parties, agreements, queries, management = _applications(settings, clock, metrics)
    runs = build_service_runs(settings, clock=clock)  # this process's running time (ADR 12)
    report_view = report_counts_view(queries, create_table=settings.create_tables)
    audit = build_audit(
        settings,
        clock=clock,
        applications=audited(
            queries, parties, agreements, management.incidents, management.escalations, runs
        ),
        sources=attrs.evolve(
            management.report_sources(),
            organisations=PartyNames(parties),  # the report names the municipalities
        ),
        report_view=report_view,
    )
    admission = build_admission(settings, clock=clock, metrics=metrics)
    metrics.admission_gauges(lambda: admission.in_progress, lambda: admission.limit)
    metrics.gauge_per_label(
        "ssbtek_open_incidents",
        "Open incidents by priority.",
        "priority",
        _unless_store_down(queries, lambda: _open_incidents(management.incidents)),
    )
    return Service(
        clock,
        metrics,
        parties,
        agreements,
        queries,
        management,
        runs,
        audit,
        admission,
        store_health=store_health(queries, metrics),
        report_counts=ReportCountsFollower(queries, report_view) if report_view else None,
    )


def _unless_store_down(
    queries: Queries, read: Callable[[], dict[str, float]]
) -> Callable[[], dict[str, float]]:
    """A gauge read from the store: its last values while the store is down, so ``/metrics``
    answers at once through an outage (and shows ``ssbtek_store_up`` 0, ADR 23)."""
    last: dict[str, float] = {}

    def guarded() -> dict[str, float]:
        if not queries.store_gate.is_open:
            try:
                last.update(read())
            except Exception as error:  # the store failed under the scrape: the gate hears it
                log.info("a gauge kept its last values: %s", type(error).__name__)
        return dict(last)

    return guarded


def _open_incidents(incidents: Incidents) -> dict[str, float]:
    counts = dict.fromkeys((priority.name for priority in Priority), 0.0)
    for incident in incidents.list_incidents(open_only=True, limit=10_000):
        counts[incident.priority.name] += 1
    return counts


def seed_demo_data(service: Service) -> None:
    """A connected demo municipality (212000-0142) with caseworker HL000001 (development)."""
    seed_demo(service.parties, service.agreements, service.clock.now())


def seed_municipalities(settings: Settings, organisations: Sequence[tuple[str, str]]) -> None:
    """Connect more municipalities as the demo one is connected, each with the demo
    caseworker: the benchmark's several asking organisations (development only)."""
    clock = SystemClock()
    parties, agreements, queries, management = _applications(settings, clock)
    try:
        for number, name in organisations:
            onboard_municipality(parties, number, name, local_date(clock.now()))
    finally:
        for app in (management, queries, agreements, parties):
            app.close()


def prepare(settings: Settings) -> None:
    """Create every application's tables (and the development demo data) once, before
    several workers open the same store: SQLite refuses concurrent schema creation."""
    clock = SystemClock()
    parties, agreements, queries, management = _applications(settings, clock)
    if not settings.production:
        seed_demo(parties, agreements, clock.now())
    report_counts_view(queries, create_table=settings.create_tables)  # its tables (ADR 27)
    if settings.create_tables:  # the replay's index of positions by organisation (ADR 27)
        build_position_index(queries.recorder, create=True)
    for app in (
        management,
        queries,
        agreements,
        parties,
        build_service_runs(settings, clock=clock),
    ):
        app.close()
    build_audit_seals(settings, clock=clock, signer=None).close()
    if settings.store is Store.POSTGRES:
        from adapters.persistence.postgres_lease import PostgresLease

        lease = build_role_lease(attrs.evolve(settings, singletons=True), create_table=True)
        assert isinstance(lease, PostgresLease)
        lease.create_table()
        lease.close()


def caller_identity(settings: Settings, metrics: PrometheusMetrics | None = None) -> CallerIdentity:
    """How every transport proves its caller (ADR 24), with the revocation list (ADR 25)."""
    if settings.tls_crl is None or settings.tls_client_ca is None:
        return CallerIdentity()
    revocations = RevocationList(settings.tls_crl, settings.tls_client_ca)
    if metrics is not None:
        metrics.gauge(
            "ssbtek_tls_revocation_list_loaded",
            "1 when the revocation list in force is the file on disk; 0 when a changed file "
            "was not taken (the last good list stays in force).",
            lambda: float(revocations.in_force_is_on_disk()),
        )
    return CallerIdentity(revocations)


def _credentials(
    settings: Settings, metrics: PrometheusMetrics | None = None
) -> grpc.ServerCredentials | None:
    """Mutual TLS from the three files, followed when they change (ADR 25)."""
    cert, key, ca = settings.tls_certificate, settings.tls_private_key, settings.tls_client_ca
    if cert is None or key is None or ca is None:
        return None
    files = ReloadingServerCredentials(cert, key, ca)
    if metrics is not None:
        metrics.gauge(
            "ssbtek_tls_server_certificate_expiry_days",
            "Days until the server certificate being served expires (renew before 0).",
            files.days_left,
        )
    return files.credentials()


def stored_format() -> StoredFormat:
    """How the applications' events are stored (the eventsourcing library's JSON), for the
    readers that look inside a stored event without the application (ADR 27)."""
    return LibraryJsonFormat()


def on_application_loop(loop: asyncio.AbstractEventLoop) -> Runs:
    """What the SOAP endpoint, on the servers' loop, runs the queries' coroutines with."""
    return OnLoop(loop)


def build_server_loop() -> ServerLoop:
    """The event loop, on a thread of its own, that ``ssbtek serve`` runs the gRPC and SOAP
    ports on (ADR 26): it takes, refuses and answers calls however busy the application's
    loop is."""
    return ServerLoop()


async def build_grpc_server(
    service: Service,
    settings: Settings,
    *,
    reuse_port: bool = False,
    health_servicer: health.aio.HealthServicer | None = None,
    application_loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[grpc.aio.Server, int]:
    """The gRPC server of ``service`` (built, not started) and the port it is bound to;
    ``health_servicer``: one the caller sets more statuses on (the background roles).

    ``application_loop``: the loop ``service`` lives on, when the server runs on a loop of
    its own (``adapters.loops.ServerLoop``, ADR 26): the servicers' methods then run there."""
    crossing = [OnApplicationLoop(application_loop)] if application_loop is not None else []
    return await build_server(
        service.queries,
        address=settings.listen,
        reuse_port=reuse_port,
        credentials=_credentials(settings, service.metrics),
        reflection_enabled=not settings.production,
        interceptors=[
            CallerInterceptor(
                caller_identity(settings, service.metrics), refused=service.metrics.caller_refused
            ),
            AdmissionInterceptor(service.admission),
            AdministratorsOnly(ADMINISTRATION_SERVICES, settings.administrators),
            AuditorsOnly(frozenset({AUDIT_SERVICE}), settings.audit.auditors),
            *crossing,
        ],
        services=service.registrations(),
        health_servicer=health_servicer,
        health_reporters=[service.store_health.attach] if service.store_health else [],
    )


# --- an auditor's copy, opened read-only ---------------------------------------------------


@attrs.frozen
class ReadOnlyLog:
    """One application's store opened read-only: the ``EventLog`` port without the application."""

    recorder: ApplicationRecorder
    mapper: Mapper[UUID]
    factory: InfrastructureFactory[TrackingRecorder]

    def close(self) -> None:
        self.factory.close()


def open_read_only(
    settings: Settings, name: str, transcodings: Sequence[Transcoding] = ()
) -> ReadOnlyLog | None:
    """One store, read-only; ``None`` when it is missing."""
    values = read_only_env(settings, name)
    if values is None:
        return None
    factory = InfrastructureFactory[TrackingRecorder].construct(Environment(name, values))
    read_only_sessions(factory)
    transcoder = JSONTranscoder()  # with the transcodings the library's Application registers
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *transcodings):
        transcoder.register(transcoding)
    return _readable(
        ReadOnlyLog(factory.application_recorder(), factory.mapper(transcoder), factory)
    )


@attrs.define
class AuditCopy:
    """The audit use cases on stores opened read-only; ``close()`` when done."""

    trail: AuditTrail
    opened: list[ReadOnlyLog]
    seals: AuditSeals | None
    incidents: Incidents | None = None
    parties: Parties | None = None

    def close(self) -> None:
        for store in self.opened:
            store.close()
        for application in (self.seals, self.incidents, self.parties):
            if application is not None:
                application.close()


class _NoPseudonyms:
    """A copy opened to read party names makes no pseudonym (it has no key)."""

    def pseudonym(self, purpose: str, value: str) -> str:
        raise RuntimeError("an auditor's copy makes no pseudonyms")


def _read_only_parties(settings: Settings, clock: Clock) -> Parties | None:
    """The Parties store of the copy, read-only, for the names of the organisations."""
    values = read_only_env(settings, "parties")
    if values is None:
        return None
    parties = Parties(
        env=values,
        clock=clock,
        pseudonymiser=_NoPseudonyms(),
        calendar=WorkingCalendar(SwedishHolidays()),
        transcodings=party_transcodings(),
    )
    read_only_sessions(parties.factory)
    return _readable(parties)


def _read_only_incidents(settings: Settings, clock: Clock) -> Incidents | None:
    """The Incidents store of the copy, read-only, for the report's service-management sections."""
    values = read_only_env(settings, "incidents")
    if values is None:
        return None
    incidents = Incidents(
        env=values, clock=clock, hours=working_hours(), transcodings=incident_transcodings()
    )
    read_only_sessions(incidents.factory)
    return _readable(incidents)


def _read_only_seals(settings: Settings, clock: Clock) -> AuditSeals | None:
    values = read_only_env(settings, SEALS_STORE)
    if values is None:
        return None
    seals = AuditSeals(env=values, clock=clock)
    read_only_sessions(seals.factory)
    return _readable(seals)


class _Store(Protocol):
    @property
    def recorder(self) -> ApplicationRecorder: ...

    def close(self) -> None: ...


_Opened = TypeVar("_Opened", bound=_Store)


def _readable(store: _Opened) -> _Opened | None:
    """``store``, or None when it cannot be read (e.g. the PostgreSQL table was never created)."""
    try:
        store.recorder.max_notification_id()
    except Exception:
        store.close()
        return None
    return store


def auditor_verifier(settings: Settings, key_files: Iterable[Path] = ()) -> Ed25519Verifier | None:
    """The public keys an auditor trusts: ``key_files``, ``SSBTEK_AUDIT_TRUSTED_KEYS``, and the
    configured signing key's own (never a key file found in a copied data directory)."""
    audit = settings.audit
    keys = trusted_keys(audit, key_files)
    if audit.signing_key_hex or audit.signing_key_file:
        keys.append(signing_key(settings, audit).public_key())
    return Ed25519Verifier(keys) if keys else None


def open_audit_copy(
    settings: Settings,
    *,
    verifier: Ed25519Verifier | None = None,
    clock: Clock | None = None,
    applications: Sequence[str] = AUDITED,
    sources: ReportSources | None = None,
) -> AuditCopy:
    """Open a copy of the stores (``settings``: its data dir or database) read-only.

    Without a ``verifier`` no key is trusted: every seal's signature is reported unverified."""
    clock = clock or SystemClock()
    opened: list[ReadOnlyLog] = []
    logs: dict[str, ApplicationRecorder | None] = {}
    readable: dict[str, ReadOnlyLog] = {}
    for name in applications:
        store = open_read_only(settings, name, query_transcodings() if name == "queries" else ())
        logs[name] = store.recorder if store else None
        if store is not None:
            opened.append(store)
            readable[name] = store
    seals = _read_only_seals(settings, clock)
    incidents = _read_only_incidents(settings, clock) if sources is None else None
    if incidents is not None:
        sources = ServiceManagementFigures(incidents, PlannedChanges(incidents)).sources()
    parties = _read_only_parties(settings, clock)
    if parties is not None:
        sources = attrs.evolve(sources or ReportSources(), organisations=PartyNames(parties))
    if not opened and seals is None:
        where = settings.data_dir if settings.store is Store.SQLITE else settings.postgres.dbname
        raise ValueError(f"no event store of this service found in {where}")
    source: SealSource = seals if seals is not None else NoSeals()
    # A store missing from the copy is only a finding when its log has seals.
    present = {name: log for name, log in logs.items() if log is not None}
    missing = {name: None for name in source.sealed_applications() if name not in present}
    trail = AuditTrail(
        {**present, **missing},
        source,
        verifier or Ed25519Verifier([]),
        monthly_reports(
            readable,
            sources,
            clock,
            report_counts_view(readable["queries"], create_table=False)
            if "queries" in readable
            else None,
        ),
        LibraryJsonFormat(),
        indexes=replay_indexes(present),
    )
    return AuditCopy(trail, opened, seals, incidents, parties)
