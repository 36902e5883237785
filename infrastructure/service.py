"""Running the service: the gRPC server, its metrics endpoint, and a clean shutdown.

``run(settings, workers=N)`` starts N processes that share the port with SO_REUSEPORT;
each is a complete service against the same store. What is per process: the in-flight
duplicate check, the store gate and the rate limit (documented in ADR 0013).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import signal

import attrs
import grpc

from application.pacing import Pacer
from application.queries import Queries
from application.service_management import Incidents
from domain.incident.service_levels import Priority
from infrastructure.settings import Settings, Store

log = logging.getLogger("ssbtek")

ADMINISTRATION_SERVICES = frozenset(
    f"ssbtek.v1.{name}"
    for name in ("PartyService", "AgreementService", "IncidentService", "EscalationService")
)


def _credentials(settings: Settings) -> grpc.ServerCredentials | None:
    from adapters.grpc.tls import server_credentials

    if settings.tls_certificate is None or settings.tls_private_key is None:
        return None
    if settings.tls_client_ca is None:
        return None
    return server_credentials(
        settings.tls_certificate.read_bytes(),
        settings.tls_private_key.read_bytes(),
        settings.tls_client_ca.read_bytes(),
    )


def prepare(settings: Settings) -> None:
    """Create every application's tables (and the development demo data) once, before
    several workers open the same store: SQLite refuses concurrent schema creation."""
    from adapters.security.pseudonymiser import HmacPseudonymiser
    from adapters.system_clock import SystemClock
    from application.demo import seed_demo
    from infrastructure.audit_bootstrap import prepare_audit
    from infrastructure.bootstrap import build_queries, pseudonym_key
    from infrastructure.parties_bootstrap import build_parties
    from infrastructure.run_time import build_service_runs
    from infrastructure.service_management_bootstrap import build_service_management

    clock = SystemClock()
    pseudonymiser = HmacPseudonymiser(pseudonym_key(settings))
    parties, agreements = build_parties(settings, clock=clock, pseudonymiser=pseudonymiser)
    if not settings.production:
        seed_demo(parties, agreements, clock.now())
    queries = build_queries(settings, clock=clock, access_policy=parties)
    management = build_service_management(settings, clock=clock, queries=queries)
    for app in (
        management,
        queries,
        agreements,
        parties,
        build_service_runs(settings, clock=clock),
    ):
        app.close()
    prepare_audit(settings, clock=clock)


async def serve(
    settings: Settings, *, reuse_port: bool = False, worker: int = 0, prepared: bool = False
) -> None:
    """Serve until SIGINT or SIGTERM, then finish the calls in flight and close the stores."""
    from prometheus_client import CollectorRegistry

    from adapters.grpc.authorisation import AdministratorsOnly
    from adapters.grpc.party_servicer import register_party_services
    from adapters.grpc.server import build_server
    from adapters.grpc.service_management import register_service_management
    from adapters.metrics.prometheus import PrometheusMetrics, serve_metrics
    from adapters.security.pseudonymiser import HmacPseudonymiser
    from adapters.system_clock import SystemClock
    from application.audit.party_names import PartyNames
    from application.demo import seed_demo
    from application.running_time import RunTimeRecorder
    from application.service_management_report import ServiceManagementFigures
    from infrastructure.audit_bootstrap import audited, build_audit
    from infrastructure.bootstrap import build_queries, pseudonym_key
    from infrastructure.parties_bootstrap import build_parties
    from infrastructure.run_time import build_service_runs, node_name
    from infrastructure.service_management_bootstrap import build_service_management

    if settings.production and not settings.tls:
        raise SystemExit(
            "production mode needs mutual TLS: set SSBTEK_TLS_CERTIFICATE, _KEY, _CLIENT_CA"
        )
    clock = SystemClock()
    pseudonymiser = HmacPseudonymiser(pseudonym_key(settings))
    parties, agreements = build_parties(settings, clock=clock, pseudonymiser=pseudonymiser)
    if not settings.production and not prepared:
        # A connected demo municipality (212000-0142) with caseworker HL000001.
        await asyncio.to_thread(seed_demo, parties, agreements, clock.now())
    metrics = PrometheusMetrics(CollectorRegistry())
    queries = build_queries(settings, metrics=metrics, clock=clock, access_policy=parties)
    management = build_service_management(settings, clock=clock, queries=queries)
    runs = build_service_runs(settings, clock=clock)  # this process's running time (ADR 12)
    audit = build_audit(
        settings,
        clock=clock,
        applications=audited(
            queries, parties, agreements, management.incidents, management.escalations, runs
        ),
        sources=attrs.evolve(
            ServiceManagementFigures(management.incidents).sources(),
            organisations=PartyNames(parties),  # the report names the municipalities
        ),
    )
    metrics.gauge_per_label(
        "ssbtek_open_incidents",
        "Open incidents by priority.",
        "priority",
        lambda: _open_incidents(management.incidents),
    )
    server, port = await build_server(
        queries,
        address=settings.listen,
        reuse_port=reuse_port,
        credentials=_credentials(settings),
        reflection_enabled=not settings.production,
        interceptors=[AdministratorsOnly(ADMINISTRATION_SERVICES, settings.administrators)],
        services=[
            *register_party_services(parties, agreements),
            *register_service_management(management.incidents, management.escalations),
            audit.registration,
        ],
    )
    await server.start()
    stopping = asyncio.Event()
    background = [asyncio.create_task(_recover_periodically(queries, interval_s=30.0))]
    sealing = asyncio.Event()  # its own event: the last seal comes after the last call
    sealer = None
    if worker == 0 and settings.singletons:  # once: in the first worker of one node (ADR 13)
        background.append(asyncio.create_task(management.run(stopping)))
        sealer = asyncio.create_task(audit.run_sealer(sealing))
    if worker == 0:
        log.info(
            "the event followers and the audit sealer run %s",
            "in this process" if sealer else "on another node (SSBTEK_SINGLETONS=off)",
        )
    if settings.metrics_listen:
        metrics_port = serve_metrics(metrics.registry, settings.metrics_listen)
        host = settings.metrics_listen.rpartition(":")[0]
        log.info("metrics on http://%s:%d/metrics", host, metrics_port)
    log.info(
        "SSBTEK Core serving on %s:%d (store: %s, base services: %s, %s, %s mode)",
        settings.listen.rsplit(":", 1)[0],
        port,
        settings.store.value,
        settings.providers,
        "mutual TLS" if settings.tls else "plaintext",
        settings.mode,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    running_time = RunTimeRecorder(runs, node=node_name(settings), worker=worker)
    await running_time.start()  # started, then still up every minute, until stopped
    await stopping.wait()
    log.info("stopping: finishing calls in flight")
    await server.stop(grace=5)
    await running_time.stop()  # before the last seal, which then covers it
    if sealer is not None:
        sealing.set()
        await sealer  # seals what the last calls wrote
    else:
        await audit.seal_now()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    for app in (management, queries, agreements, parties, runs, audit):
        app.close()
    log.info("stopped")


def _open_incidents(incidents: Incidents) -> dict[str, float]:
    counts = dict.fromkeys((priority.name for priority in Priority), 0.0)
    for incident in incidents.list_incidents(open_only=True, limit=10_000):
        counts[incident.priority.name] += 1
    return counts


async def _recover_periodically(queries: Queries, *, interval_s: float) -> None:
    """Close queries abandoned by a dead process: at start, then every ``interval_s``."""
    while True:
        try:
            await asyncio.to_thread(queries.close_abandoned, pace=Pacer())
        except Exception as error:  # the store may be down: try again next round
            log.warning("recovery step failed: %s", type(error).__name__)
        await asyncio.sleep(interval_s)


def _worker(settings: Settings, index: int) -> None:
    from infrastructure.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    if settings.metrics_listen:
        host, _, port = settings.metrics_listen.rpartition(":")
        if int(port):
            settings = attrs.evolve(settings, metrics_listen=f"{host}:{int(port) + index}")
    # An in-memory store is each worker's own: each seeds its own demo data. A durable
    # store was prepared (tables and demo data) before the workers started: they only open it.
    prepared = settings.store is not Store.MEMORY
    if prepared:
        settings = attrs.evolve(settings, create_tables=False)
    asyncio.run(serve(settings, reuse_port=True, worker=index, prepared=prepared))


def run(settings: Settings, *, workers: int = 1) -> None:
    """Serve in this process, or in ``workers`` processes sharing the port."""
    if workers <= 1:
        asyncio.run(serve(settings))
        return
    if settings.listen.endswith(":0"):
        raise SystemExit("--workers needs a fixed port: the processes must share it")
    prepare(settings)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(settings, i), daemon=False) for i in range(workers)
    ]
    for process in processes:
        process.start()

    def forward(signum: int, _frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                process.terminate() if signum == signal.SIGTERM else process.kill()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, lambda *_: None)  # the workers get SIGINT from the terminal
    pending = {process.sentinel: process for process in processes}
    failed = False
    while pending:
        for ready in multiprocessing.connection.wait(list(pending)):
            assert isinstance(ready, int)
            process = pending.pop(ready)
            process.join()  # the sentinel is ready before the exit code is read
            if process.exitcode != 0 and not failed:
                failed = True
                log.error(
                    "worker %s ended with %s: stopping the others", process.pid, process.exitcode
                )
                for other in pending.values():
                    other.terminate()
    if failed:
        raise SystemExit(1)
