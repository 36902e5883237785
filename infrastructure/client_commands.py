"""The parsers of ``ssbtek query`` and ``ssbtek providers``, without grpc, protobuf or rich:
``infrastructure.client`` (the gRPC client) is imported when the command runs."""

from __future__ import annotations

import argparse

from infrastructure.cli_dates import DAY_HELP, date
from infrastructure.cli_light import later
from infrastructure.cli_names import LEGAL_BASES, PROVIDERS, PURPOSES

DEFAULT_TARGET = "127.0.0.1:50051"


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=DEFAULT_TARGET)
    parser.add_argument("--tls-certificate", help="client certificate (PEM) for mutual TLS")
    parser.add_argument("--tls-private-key", help="its private key (PEM)")
    parser.add_argument("--tls-server-ca", help="the CA that issued the server's certificate")


def fill_query(query: argparse.ArgumentParser) -> None:
    query.add_argument("subjects", nargs="+", metavar="PERSONNUMMER", help="1 to 10, YYYYMMDD-NNNC")
    add_connection_options(query)
    query.add_argument(
        "--organisation", required=True, help="organisationsnummer, e.g. 212000-0142"
    )
    query.add_argument("--organisation-name", default="")
    query.add_argument("--caseworker", required=True, help="the caseworker's id")
    query.add_argument("--case", required=True, help="the case id")
    query.add_argument("--purpose", default="FINANCIAL_ASSISTANCE_CASE", choices=PURPOSES)
    query.add_argument("--legal-basis", default="SOL_11_KAP_11", choices=LEGAL_BASES)
    query.add_argument(
        "--from",
        dest="start",
        type=date,
        metavar="DAY",
        help=f"period start: {DAY_HELP}; default 180 days ago",
    )
    query.add_argument(
        "--to", dest="end", type=date, metavar="DAY", help=f"period end: {DAY_HELP}; default today"
    )
    query.add_argument(
        "--provider",
        action="append",
        default=[],
        choices=PROVIDERS,
        help="include only these providers (repeatable); default all eight",
    )
    query.add_argument("--client-request-id")
    query.add_argument("--timeout", type=float, default=30.0)
    query.add_argument("--json", action="store_true", help="print the answer as JSON")
    query.set_defaults(handler=later("infrastructure.client", "run_query"))


def fill_providers(providers: argparse.ArgumentParser) -> None:
    add_connection_options(providers)
    providers.add_argument("--check", action="store_true", help="reach every base service")
    providers.add_argument("--timeout", type=float, default=10.0)
    providers.set_defaults(handler=later("infrastructure.client", "run_providers"))
