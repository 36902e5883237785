"""Running the service that ``infrastructure.composition`` builds: the gRPC server, its metrics
endpoint, the background jobs, and a clean shutdown.

``run(settings, workers=N)`` starts N processes that share the port with SO_REUSEPORT;
each is a complete service against the same store. What is per process: the in-flight
duplicate check, the store gate and the rate limit; the background roles (followers,
deadline check, sealer, recovery) run in the one process of all the nodes that holds their
lease (``infrastructure.roles``, ADR 0013).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

import attrs
import grpc
from eventsourcing.persistence import PersistenceError
from grpc_health.v1 import health, health_pb2

from adapters.loops import ServerLoop
from adapters.metrics.prometheus import serve_metrics
from application.audit.report_projection import ReportCountsFollower
from application.pacing import Pacer
from application.queries import Queries
from infrastructure.composition import (
    Service,
    build_grpc_server,
    build_role_lease,
    build_server_loop,
    build_service,
    node_name,
    on_application_loop,
    prepare,
    replay_index_role,
    seed_demo_data,
)
from infrastructure.roles import ROLES_HEALTH, BackgroundRole, BackgroundRoles
from infrastructure.settings import Settings, Store
from infrastructure.soap import start_soap

log = logging.getLogger("ssbtek")


async def serve(
    settings: Settings, *, reuse_port: bool = False, worker: int = 0, prepared: bool = False
) -> None:
    """Serve until SIGINT or SIGTERM, then finish the calls in flight and close the stores."""
    if settings.production and not settings.tls:
        raise SystemExit(
            "production mode needs mutual TLS: set SSBTEK_TLS_CERTIFICATE, "
            "SSBTEK_TLS_PRIVATE_KEY and SSBTEK_TLS_CLIENT_CA"
        )
    try:
        service = build_service(settings)
        if not settings.production and not prepared:
            await asyncio.to_thread(seed_demo_data, service)
    except PersistenceError as error:  # the database went away between the check and here
        raise StoreFailedAtStartError(type(error).__name__) from None
    # The gRPC server takes, refuses and answers calls on a loop of its own; the queries
    # run here (ADR 26): a busy application never keeps calls waiting to be refused.
    server_loop = build_server_loop()
    application_loop = asyncio.get_running_loop()
    # The limit follows this loop (the queries' work), the CPU the two loops' threads take
    # under the interpreter lock, and the whole process's on the cores it may use (ADR 26).
    cores = len(os.sched_getaffinity(0))
    service.admission.watch(
        lambda: time.thread_time() + server_loop.cpu_seconds(),
        lambda: time.process_time() / cores,
    )

    async def started() -> tuple[health.aio.HealthServicer, grpc.aio.Server, int]:
        health_servicer = health.aio.HealthServicer()
        server, port = await build_grpc_server(
            service,
            settings,
            reuse_port=reuse_port,
            health_servicer=health_servicer,
            application_loop=application_loop,
        )
        await server.start()
        return health_servicer, server, port

    try:
        health_servicer, server, port = await server_loop.run(started())
    except BaseException:
        server_loop.close()
        raise
    service.queries.store_gate.watch()  # an outage shows in health even with no query (ADR 23)
    soap = await server_loop.run(  # the SOAP port on the servers' loop too (ADR 26)
        start_soap(
            service.queries,
            settings,
            metrics=service.metrics,
            reuse_port=reuse_port,
            admission=service.admission,
            application=on_application_loop(application_loop),
        )
    )
    stopping = asyncio.Event()
    roles = _background_roles(service, settings, health_servicer, server_loop)
    roles.start()  # whichever process of the nodes holds the lease runs them (ADR 13)
    if settings.metrics_listen:
        metrics_port = serve_metrics(service.metrics.registry, settings.metrics_listen)
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
    running_time = service.running_time(settings, worker=worker)
    await running_time.start()  # started, then still up every minute, until stopped
    await stopping.wait()
    log.info("stopping: finishing calls in flight")
    await server_loop.run(server.stop(grace=5))
    if soap is not None:
        await server_loop.run(soap.stop())
    await running_time.stop()  # before the last seal, which then covers it
    await roles.stop()  # the holder's last seal, then the lease is released
    await service.queries.store_gate.close()
    service.close()
    server_loop.close()  # last: the roles tell its health servicer they let go
    log.info("stopped")


def _background_roles(
    service: Service,
    settings: Settings,
    health_servicer: health.aio.HealthServicer,
    server_loop: ServerLoop,
) -> BackgroundRoles:
    """The roles one process of all the nodes runs, by the lease; the health service
    ``ssbtek.v1.BackgroundRoles`` and the gauge ``ssbtek_background_roles`` say where."""
    node = node_name(settings)

    async def changed(held: bool) -> None:
        serving = health_pb2.HealthCheckResponse.SERVING
        await server_loop.run(  # the health servicer lives on the server's loop
            health_servicer.set(
                ROLES_HEALTH, serving if held else health_pb2.HealthCheckResponse.NOT_SERVING
            )
        )

    async def recovery(_stop: asyncio.Event) -> None:
        await _recover_periodically(service.queries, interval_s=30.0)

    follower = service.report_counts

    async def report_projection(_stop: asyncio.Event) -> None:
        if follower is not None:
            await _count_periodically(follower, interval_s=5.0)

    counting = [BackgroundRole("report projection", report_projection)] if follower else []

    indexer = replay_index_role(service.queries, settings)

    async def replay_index(_stop: asyncio.Event) -> None:
        if indexer is not None:
            await _index_periodically(indexer, interval_s=5.0)

    roles = BackgroundRoles(
        build_role_lease(settings),
        [
            BackgroundRole(
                "event followers and deadline check", service.management.run, finishes=True
            ),
            BackgroundRole("audit sealer", service.audit.run_sealer, finishes=True),
            BackgroundRole("recovery", recovery),
            *counting,  # in memory there is no projection: the report folds the events
            BackgroundRole("replay index", replay_index),
        ],
        taken=service.management.incidents.reread_automatic_incidents,
        changed=changed,
        last_seal=service.audit.seal_now,
    )
    service.metrics.gauge_per_label(
        "ssbtek_background_roles",
        "1 where this process holds the background roles (event followers, deadline check, "
        "audit sealer, recovery, report projection, replay index), by node (ADR 13).",
        "node",
        lambda: {node: 1.0 if roles.held else 0.0},
    )
    return roles


async def _periodically(
    name: str, step: Callable[[], int], *, interval_s: float, full: int | None = None
) -> None:
    """Run a background role's ``step`` (how many events of the query log it read) at once,
    then every ``interval_s``; at once again while a step read ``full`` events or more (a
    long catch-up goes on in bounded steps). The first step that reads less is logged as
    "<name> caught up". A failed step (the store down, the lease handed over) writes
    nothing, is logged by its type only, and is tried again."""
    read, caught_up = 0, False
    while True:
        more = False
        try:
            found = await asyncio.to_thread(step)
            read += found
            more = full is not None and found >= full
            if not more and not caught_up:
                caught_up = True
                log.info("%s caught up: read %d events of the query log", name, read)
        except Exception as error:
            log.warning("%s step failed: %s", name, type(error).__name__)
        await asyncio.sleep(0 if more else interval_s)


def _count_periodically(
    follower: ReportCountsFollower, *, interval_s: float, pages: int = 50
) -> Coroutine[Any, Any, None]:
    """Keep the monthly report's counters up with the Queries log (ADR 27), at most
    ``pages`` pages a step (a long first catch-up stops soon after the role does)."""
    return _periodically(
        "report projection",
        partial(follower.catch_up, max_pages=pages),
        interval_s=interval_s,
        full=pages * follower.page,
    )


class StoreFailedAtStartError(Exception):
    """The event store failed while the service was opening it (nothing was served yet)."""


def _recover_periodically(queries: Queries, *, interval_s: float) -> Coroutine[Any, Any, None]:
    """Close queries abandoned by a dead process: at start, then every ``interval_s``."""

    def step() -> int:
        queries.close_abandoned(pace=Pacer())
        return queries.recovery.read_last_round

    return _periodically("recovery", step, interval_s=interval_s)


def _index_periodically(step: Callable[[], int], *, interval_s: float) -> Coroutine[Any, Any, None]:
    """Keep the replay's index of positions by organisation up with the Queries log
    (ADR 27): what it has not reached, a replay reads from the log itself."""
    return _periodically("replay index", step, interval_s=interval_s)


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
    try:
        asyncio.run(serve(settings, reuse_port=True, worker=index, prepared=prepared))
    except StoreFailedAtStartError as error:
        log.error("worker %d: the event store failed while starting (%s)", index, error)
        raise SystemExit(1) from None


def run(settings: Settings, *, workers: int = 1) -> None:
    """Serve in this process, or in ``workers`` processes sharing the port."""
    if workers <= 1:
        asyncio.run(serve(settings))
        return
    if settings.listen.endswith(":0"):
        raise SystemExit("--workers needs a fixed port: the processes must share it")
    try:
        prepare(settings)
    except PersistenceError as error:
        raise StoreFailedAtStartError(type(error).__name__) from None
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
