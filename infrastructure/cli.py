"""The ``ssbtek`` command: ``serve`` the service; ``query``, ``providers``, ``party``,
``agreement``, ``incident`` and ``escalation`` talk to a running one over gRPC; ``audit``
and ``report`` work on the running service or on a copy of its stores."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from infrastructure import settings as settings_module
from infrastructure.audit_cli import add_audit_commands
from infrastructure.client import add_client_commands
from infrastructure.party_cli import add_party_commands
from infrastructure.service_management_cli import add_service_management_commands
from infrastructure.settings import Settings, Store
from infrastructure.simulators_cli import add_simulator_commands

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
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes sharing the port with SO_REUSEPORT (needs a fixed port)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssbtek", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve(commands)
    add_client_commands(commands)
    add_audit_commands(commands)
    add_party_commands(commands)
    add_service_management_commands(commands)
    add_simulator_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            settings = _serve_settings(args, settings_module.load())
            from infrastructure import service  # the whole service: only when serving
            from infrastructure.logging_setup import configure_logging

            configure_logging(settings.log_level, settings.log_format)

            service.run(settings, workers=args.workers)
            return 0
        exit_code: int = args.handler(args)
    except settings_module.SettingsError as error:
        parser.exit(2, f"ssbtek: {error}\n")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
