"""The ``ssbtek`` commands: name, one-line help, and the function that fills in the command's
parser (``module:function``), imported only for the command being run, so that
``ssbtek --help`` imports no command module at all (issue 12)."""

from __future__ import annotations

import argparse
import importlib
from typing import Final, NamedTuple

from infrastructure.cli_light import Commands


class Command(NamedTuple):
    help: str
    filler: str


COMMANDS: Final = {
    "serve": Command("run the gRPC service", "infrastructure.cli:fill_serve"),
    "query": Command(
        "send one query and print the compiled answer", "infrastructure.client_commands:fill_query"
    ),
    "providers": Command(
        "describe (or --check) the base services", "infrastructure.client_commands:fill_providers"
    ),
    "audit": Command(
        "replay and verify the audit trail", "infrastructure.audit_commands:fill_audit"
    ),
    "report": Command("service-level reports", "infrastructure.audit_commands:fill_report"),
    "party": Command(
        "parties, onboarding, caseworkers, leaving", "infrastructure.party_cli:fill_party"
    ),
    "agreement": Command(
        "documents, acknowledgements, fees", "infrastructure.party_cli:fill_agreement"
    ),
    "incident": Command(
        "incidents and problems (Bilaga 4 § 3)",
        "infrastructure.service_management_cli:fill_incident",
    ),
    "escalation": Command(
        "disputes and escalation (004 § 10)",
        "infrastructure.service_management_cli:fill_escalation",
    ),
    "simulate-providers": Command(
        "serve the SIMULATED base services over their v10 contracts (SOAP, Lefi JSON)",
        "infrastructure.simulators_cli:fill_simulate",
    ),
}
"""In the order ``ssbtek --help`` lists them."""


def add_command_parser(commands: Commands, name: str) -> argparse.ArgumentParser:
    """The command's parser, with its help line, not filled in yet."""
    return commands.add_parser(name, help=COMMANDS[name].help)


def fill(parser: argparse.ArgumentParser, name: str) -> None:
    """The command's arguments, from its own module (imported now)."""
    module, _, function = COMMANDS[name].filler.partition(":")
    getattr(importlib.import_module(module), function)(parser)
