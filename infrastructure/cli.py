"""The ``ssbtek`` command: ``serve`` the service, ``query`` it, list its ``providers``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
import grpc

from infrastructure import settings as settings_module
from infrastructure.client import add_client_commands
from infrastructure.logging_setup import configure_logging
from infrastructure.settings import Settings, Store

log = logging.getLogger("ssbtek")


def _serve_settings(args: argparse.Namespace, base: Settings) -> Settings:
    changes: dict[str, object] = {}
    if args.store:
        changes["store"] = Store(args.store)
    if args.data_dir:
        changes["data_dir"] = args.data_dir
    if args.listen:
        changes["listen"] = args.listen
    if args.port is not None:
        host = (args.listen or base.listen).rsplit(":", 1)[0]
        changes["listen"] = f"{host}:{args.port}"
    if args.providers:
        changes["providers"] = args.providers
    if args.provider_options is not None:
        changes["provider_options"] = settings_module.parse_options(args.provider_options)
    if args.metrics_listen is not None:
        changes["metrics_listen"] = args.metrics_listen
    if args.postgres_dbname:
        changes["postgres"] = attrs.evolve(base.postgres, dbname=args.postgres_dbname)
    return attrs.evolve(base, **changes)  # type: ignore[arg-type]


async def _serve(settings: Settings) -> None:
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
        credentials=_credentials(settings),
        reflection_enabled=not settings.production,
    )
    await server.start()
    if settings.metrics_listen:
        metrics_port = serve_metrics(metrics.registry, settings.metrics_listen)
        log.info(
            "metrics on http://%s:%d/metrics",
            settings.metrics_listen.rpartition(":")[0],
            metrics_port,
        )
    host = settings.listen.rsplit(":", 1)[0]
    log.info(
        "SSBTEK Core serving on %s:%d (store: %s, base services: %s, %s, %s mode)",
        host,
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
    queries.close()
    log.info("stopped")


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


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the gRPC service")
    serve.add_argument("--store", choices=[s.value for s in Store], help="default: sqlite")
    serve.add_argument("--data-dir", type=Path, help="default: ./var")
    serve.add_argument("--postgres-dbname", help="PostgreSQL database (with --store postgres)")
    serve.add_argument("--listen", help="host:port, default 127.0.0.1:50051")
    serve.add_argument("--port", type=int, help="port on the --listen host (0: any free port)")
    serve.add_argument("--providers", help="base-service adapter entry point, default simulated")
    serve.add_argument("--provider-options", help="key=value,... for the base-service adapter")
    serve.add_argument("--metrics-listen", help="host:port for Prometheus /metrics ('' for none)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssbtek", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve(commands)
    add_client_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "serve":
        settings = _serve_settings(args, settings_module.load())
        configure_logging(settings.log_level, settings.log_format)
        asyncio.run(_serve(settings))
        return 0
    exit_code: int = args.handler(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
