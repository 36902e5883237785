"""Running the service: the gRPC server, its metrics endpoint, and a clean shutdown.

``run(settings, workers=N)`` starts N processes that share the port with SO_REUSEPORT;
each is a complete service against the same store. What is per process: the in-flight
duplicate check, the store gate and the rate limit (documented in ADR 0013).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal

import attrs
import grpc

from application.queries import Queries
from infrastructure.settings import Settings

log = logging.getLogger("ssbtek")


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


async def serve(settings: Settings, *, reuse_port: bool = False) -> None:
    """Serve until SIGINT or SIGTERM, then finish the calls in flight and close the store."""
    from prometheus_client import CollectorRegistry

    from adapters.grpc.server import build_server
    from adapters.metrics.prometheus import PrometheusMetrics, serve_metrics
    from infrastructure.bootstrap import build_queries

    if settings.production and not settings.tls:
        raise SystemExit(
            "production mode needs mutual TLS: set SSBTEK_TLS_CERTIFICATE, _KEY, _CLIENT_CA"
        )
    metrics = PrometheusMetrics(CollectorRegistry())
    queries = build_queries(settings, metrics=metrics)
    server, port = await build_server(
        queries,
        address=settings.listen,
        reuse_port=reuse_port,
        credentials=_credentials(settings),
        reflection_enabled=not settings.production,
    )
    await server.start()
    recovery = asyncio.create_task(_recover_periodically(queries, interval_s=30.0))
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
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("stopping: finishing calls in flight")
    await server.stop(grace=5)
    recovery.cancel()
    queries.close()
    log.info("stopped")


async def _recover_periodically(queries: Queries, *, interval_s: float) -> None:
    """Close queries abandoned by a dead process: at start, then every ``interval_s``."""
    while True:
        try:
            await asyncio.to_thread(queries.close_abandoned)
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
    asyncio.run(serve(settings, reuse_port=True))


def run(settings: Settings, *, workers: int = 1) -> None:
    """Serve in this process, or in ``workers`` processes sharing the port."""
    if workers <= 1:
        asyncio.run(serve(settings))
        return
    if settings.listen.endswith(":0"):
        raise SystemExit("--workers needs a fixed port: the processes must share it")
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
    for process in processes:
        process.join()
