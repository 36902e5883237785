"""The parsers of ``ssbtek audit replay|verify|export-key`` and ``ssbtek report monthly``,
without grpc, protobuf, rich or the settings model: ``infrastructure.audit_cli`` runs them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from infrastructure.cli_dates import UTC_MOMENT_HELP, utc_moment
from infrastructure.cli_light import Store, later

if TYPE_CHECKING:
    from application.audit.report_model import Month


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_argument_group("where to read (default: the stores, read-only)")
    where.add_argument("--store", choices=[Store.SQLITE.value, Store.POSTGRES.value])
    where.add_argument("--data-dir", type=Path, help="the SQLite files (a copy), default ./var")
    where.add_argument("--postgres-dbname", help="the PostgreSQL database (with --store postgres)")
    where.add_argument("--target", help="HOST:PORT: ask the running service over gRPC instead")
    where.add_argument("--tls-certificate", help="client certificate (PEM) for mutual TLS")
    where.add_argument("--tls-private-key", help="its private key (PEM)")
    where.add_argument("--tls-server-ca", help="the CA that issued the server's certificate")
    where.add_argument("--timeout", type=float, default=600.0, help="seconds, with --target")


def _position(text: str) -> tuple[str, int]:
    name, _, position = text.partition("=")
    if not name or not position.isdigit():
        raise argparse.ArgumentTypeError("use APPLICATION=POSITION, e.g. queries=1200")
    return name, int(position)


def _month(text: str) -> Month:
    from application.audit.report_model import Month

    try:
        return Month.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def fill_audit(audit: argparse.ArgumentParser) -> None:
    """``ssbtek audit replay|verify|export-key``."""
    actions = audit.add_subparsers(dest="audit_command", required=True)

    replay = actions.add_parser("replay", help="every stored event, as JSON lines")
    _add_source_options(replay)
    replay.add_argument("--application", action="append", help="store name, e.g. queries")
    replay.add_argument("--aggregate-type", action="append", help="e.g. Query")
    replay.add_argument("--event-type", action="append", help="e.g. Query.Received")
    replay.add_argument("--since", type=utc_moment, metavar="TIME", help=f"from: {UTC_MOMENT_HELP}")
    replay.add_argument(
        "--until", type=utc_moment, metavar="TIME", help=f"before (exclusive): {UTC_MOMENT_HELP}"
    )
    replay.add_argument("--organisation", action="append", help="asking organisation number")
    replay.add_argument(
        "--caller",
        action="append",
        help="organisation number its certificate proved: the queries and refusals it made",
    )
    replay.add_argument("--after", action="append", type=_position, help="resume: APP=POSITION")
    replay.add_argument("--follow", action="store_true", help="keep sending new events (--target)")
    replay.add_argument("--output", type=Path, help="write the JSON lines here, not to stdout")
    replay.set_defaults(handler=later("infrastructure.audit_cli", "run_replay"))

    verify = actions.add_parser("verify", help="check every log against its signed seals")
    _add_source_options(verify)
    verify.add_argument("--application", action="append", help="store name, e.g. queries")
    verify.add_argument(
        "--public-key", action="append", type=Path, help="trusted public key (PEM or hex)"
    )
    verify.add_argument(
        "--anchor", type=Path, help="a saved `audit verify --json`: its seals must still be there"
    )
    verify.add_argument(
        "--from-anchor",
        action="store_true",
        help="check only from the latest seal of --anchor on (verified when it was kept)",
    )
    verify.add_argument(
        "--require-sealed", action="store_true", help="fail when events are not sealed yet"
    )
    verify.add_argument(
        "--json", action="store_true", help="print the verdict as JSON (keep it as an anchor)"
    )
    verify.set_defaults(handler=later("infrastructure.audit_cli", "run_verify"))

    export = actions.add_parser("export-key", help="print the public key that checks the seals")
    _add_source_options(export)
    export.add_argument("--signing-key-file", type=Path, help="default: the configured key")
    export.add_argument("--hex", action="store_true", help="64 hex characters instead of PEM")
    export.set_defaults(handler=later("infrastructure.audit_cli", "run_export_key"))


def fill_report(report: argparse.ArgumentParser) -> None:
    """``ssbtek report monthly``."""
    kinds = report.add_subparsers(dest="report_command", required=True)
    monthly = kinds.add_parser("monthly", help="the monthly service-level report (Bilaga 4 § 4)")
    monthly.add_argument("month", type=_month, help="YYYY-MM, e.g. 2026-11")
    _add_source_options(monthly)
    monthly.add_argument("--html", type=Path, help="also write the HTML page here")
    monthly.add_argument("--json", action="store_true", help="print the report as JSON")
    monthly.set_defaults(handler=later("infrastructure.audit_cli", "run_report"))
