"""``ssbtek incident ...`` and ``ssbtek escalation ...``: gRPC clients for the support desk.

Each subcommand makes one call to the running service and prints the incident, problem
or escalation it returns (a table, or ``--json``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from infrastructure.cli_table import add_command_parser
from infrastructure.escalation_cli import add_escalation_commands
from infrastructure.incident_cli import add_incident_commands

if TYPE_CHECKING:
    from infrastructure.unary_commands import Commands


def add_service_management_commands(commands: Commands) -> None:
    """``ssbtek incident ...`` and ``ssbtek escalation ...``."""
    fill_incident(add_command_parser(commands, "incident"))
    fill_escalation(add_command_parser(commands, "escalation"))


def fill_incident(incident: argparse.ArgumentParser) -> None:
    add_incident_commands(incident.add_subparsers(dest="incident_command", required=True))


def fill_escalation(escalation: argparse.ArgumentParser) -> None:
    add_escalation_commands(escalation.add_subparsers(dest="escalation_command", required=True))
