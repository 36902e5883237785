"""Composition of the audit trail: the seals, the signing key, and read-only copies.

On the running service: ``build_audit_seals`` (its own store, ``auditseals``), the signer
from ``signing_key``, ``audited(...)`` naming every application's log, and ``build_audit_trail``
for the gRPC service. On an auditor's copy: ``open_audit_copy`` opens every store read-only
through the library (SQLite ``mode=ro``; PostgreSQL sessions with
``default_transaction_read_only``), without the gRPC server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final
from uuid import UUID

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
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
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from adapters.calendar.swedish_holidays import SwedishHolidays
from adapters.grpc.audit_servicer import register_audit_service
from adapters.grpc.server import ServiceRegistration
from adapters.persistence.transcodings import (
    incident_transcodings,
    party_transcodings,
    query_transcodings,
)
from adapters.security.signing import (
    Ed25519Signer,
    Ed25519Verifier,
    load_public_key,
    load_signing_key,
    new_signing_key_pem,
)
from application.audit.party_names import PartyNames
from application.audit.ports import EventLog
from application.audit.report import MonthlyReports
from application.audit.report_sources import ReportSources
from application.audit.sealer import run_sealer, seal_now
from application.audit.seals import AuditSeals
from application.audit.trail import AuditTrail
from application.audit.verification import NoSeals, SealSource
from application.parties import Parties
from application.ports import Clock
from application.service_management import Incidents
from application.service_management_report import ServiceManagementFigures
from domain.business_hours import BusinessHours
from domain.calendar import WorkingCalendar
from infrastructure.audit_settings import AuditSettings
from infrastructure.bootstrap import persistence_env
from infrastructure.key_files import create_once
from infrastructure.settings import Settings, Store

log = logging.getLogger(__name__)

SEALS_STORE: Final = "auditseals"
"""``AuditSeals.name.lower()``: ``auditseals.sqlite3``, or the table ``auditseals_events``."""
AUDITED: Final = ("queries", "parties", "agreements", "incidents", "escalations", "serviceruns")
"""The logs of the service, by store name (an application's ``name`` in lower case)."""
DEV_KEY_FILE: Final = "audit-signing.pem"


def signing_key(
    settings: Settings, audit: AuditSettings, *, create: bool = True
) -> Ed25519PrivateKey:
    """The seal signing key from configuration. Development without one gets a key file made
    once in the data directory (a warning says it protects nothing there; ``create=False``
    only reads it); production refuses to start without a configured key."""
    if audit.signing_key_hex:
        return load_signing_key(audit.signing_key_hex.encode())
    if audit.signing_key_file is not None:
        return load_signing_key(audit.signing_key_file.read_bytes())
    if settings.production:
        raise SystemExit("production mode needs SSBTEK_AUDIT_SIGNING_KEY_FILE (the seal key)")
    if settings.store is Store.MEMORY:
        return Ed25519PrivateKey.generate()
    path = settings.data_dir / DEV_KEY_FILE
    if not path.exists() and not create:
        raise FileNotFoundError("no seal signing key is configured")
    if not path.exists() and create_once(path, new_signing_key_pem()):
        log.warning(
            "made a development seal key at %s: a key beside the data proves nothing to an "
            "auditor; production sets SSBTEK_AUDIT_SIGNING_KEY_FILE",
            path,
        )
    return load_signing_key(path.read_bytes())


def trusted_keys(audit: AuditSettings, files: Iterable[Path] = ()) -> list[Ed25519PublicKey]:
    """The public keys of ``SSBTEK_AUDIT_TRUSTED_KEYS`` and of ``files``."""
    return [load_public_key(path.read_bytes()) for path in (*audit.trusted_public_keys, *files)]


def build_audit_seals(
    settings: Settings, *, clock: Clock, signer: Ed25519Signer | None
) -> AuditSeals:
    """The seals application on the configured store (``signer`` None: read only)."""
    return AuditSeals(env=persistence_env(settings, SEALS_STORE), clock=clock, signer=signer)


def audited(*applications: Application[UUID]) -> dict[str, Application[UUID]]:
    """The applications whose logs are sealed, by store name: ``{"queries": queries, ...}``."""
    return {application.name.lower(): application for application in applications}


def working_hours() -> BusinessHours:
    """Opening hours: Monday-Friday 08:00-17:00 Stockholm, no Swedish public holidays."""
    return BusinessHours(WorkingCalendar(SwedishHolidays()))


def monthly_reports(
    logs: Mapping[str, EventLog], sources: ReportSources | None, clock: Clock
) -> MonthlyReports | None:
    """The report over the Queries log and the records of running time (``serviceruns``)."""
    queries = logs.get("queries")
    if queries is None:
        return None
    return MonthlyReports(
        queries, working_hours(), sources, running_time=logs.get("serviceruns"), clock=clock
    )


def build_audit_trail(
    applications: Mapping[str, EventLog],
    seals: SealSource,
    verifier: Ed25519Verifier,
    *,
    clock: Clock,
    sources: ReportSources | None = None,
) -> AuditTrail:
    """The audit use cases over the running service's applications."""
    return AuditTrail(
        {name: application.recorder for name, application in applications.items()},
        seals,
        verifier,
        monthly_reports(applications, sources, clock),
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


def _read_only_sessions(factory: object) -> None:
    """PostgreSQL: every session of the pool refuses writes (set before the pool first opens)."""
    if isinstance(factory, PostgresFactory):
        kwargs = factory.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs["options"] = "-c default_transaction_read_only=on"


def open_read_only(
    settings: Settings, name: str, transcodings: Sequence[Transcoding] = ()
) -> ReadOnlyLog | None:
    """One store, read-only; ``None`` when it is missing."""
    values = read_only_env(settings, name)
    if values is None:
        return None
    factory = InfrastructureFactory[TrackingRecorder].construct(Environment(name, values))
    _read_only_sessions(factory)
    transcoder = JSONTranscoder()  # with the transcodings the library's Application registers
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *transcodings):
        transcoder.register(transcoding)
    opened = ReadOnlyLog(factory.application_recorder(), factory.mapper(transcoder), factory)
    try:
        opened.recorder.max_notification_id()
    except Exception:
        opened.close()
        return None  # e.g. the PostgreSQL table was never created
    return opened


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
    _read_only_sessions(parties.factory)
    try:
        parties.recorder.max_notification_id()
    except Exception:
        parties.close()
        return None
    return parties


def _read_only_incidents(settings: Settings, clock: Clock) -> Incidents | None:
    """The Incidents store of the copy, read-only, for the report's service-management sections."""
    values = read_only_env(settings, "incidents")
    if values is None:
        return None
    incidents = Incidents(
        env=values, clock=clock, hours=working_hours(), transcodings=incident_transcodings()
    )
    _read_only_sessions(incidents.factory)
    try:
        incidents.recorder.max_notification_id()
    except Exception:
        incidents.close()
        return None
    return incidents


def open_audit_copy(
    settings: Settings,
    *,
    verifier: Ed25519Verifier,
    clock: Clock,
    applications: Sequence[str] = AUDITED,
    sources: ReportSources | None = None,
) -> AuditCopy:
    """Open a copy of the stores (``settings``: its data dir or database) read-only."""
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
        sources = ServiceManagementFigures(incidents).sources()
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
        {**present, **missing}, source, verifier, monthly_reports(readable, sources, clock)
    )
    return AuditCopy(trail, opened, seals, incidents, parties)


def _read_only_seals(settings: Settings, clock: Clock) -> AuditSeals | None:
    values = read_only_env(settings, SEALS_STORE)
    if values is None:
        return None
    seals = AuditSeals(env=values, clock=clock)
    _read_only_sessions(seals.factory)
    try:
        seals.recorder.max_notification_id()
    except Exception:
        seals.close()
        return None
    return seals


# --- the running service -------------------------------------------------------------------


@attrs.define
class Audit:
    """The audit trail of the running service: the seals, the sealer, and the gRPC service.

    audit = build_audit(settings, clock=clock, applications=audited(queries, parties, ...))
    services=[..., audit.registration]
    background.append(asyncio.create_task(audit.run_sealer(stopping)))  # one worker
    ...                                   # on shutdown, after server.stop(grace):
    stopping.set(); await the background  # the sealer seals once more, then returns
    await audit.seal_now()                # in every other worker
    audit.close()
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
) -> Audit:
    """Everything the server needs for the audit trail, from ``Settings.audit``."""
    audit = settings.audit
    signer = Ed25519Signer(signing_key(settings, audit))
    seals = build_audit_seals(settings, clock=clock, signer=signer)
    verifier = Ed25519Verifier([signer.public_key, *trusted_keys(audit)])
    trail = build_audit_trail(applications, seals, verifier, clock=clock, sources=sources)
    return Audit(
        seals=seals,
        applications=dict(applications),
        trail=trail,
        registration=register_audit_service(trail, auditors=audit.auditors),
        interval_s=audit.seal_interval_s,
    )


def prepare_audit(settings: Settings, *, clock: Clock) -> None:
    """Create the seals' tables once, before several workers open the same store."""
    build_audit_seals(settings, clock=clock, signer=None).close()
