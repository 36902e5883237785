"""``ssbtek incident ...`` and ``ssbtek escalation ...``: gRPC clients for the support desk.

Each subcommand makes one call to the running service and prints the incident, problem
or escalation it returns (a table, or ``--json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infrastructure.escalation_cli import add_escalation_commands
from infrastructure.incident_cli import add_incident_commands

if TYPE_CHECKING:
    from infrastructure.unary_commands import Commands


def add_service_management_commands(commands: Commands) -> None:
    """``ssbtek incident ...`` and ``ssbtek escalation ...``."""
    incident = commands.add_parser("incident", help="incidents and problems (Bilaga 4 § 3)")
    add_incident_commands(incident.add_subparsers(dest="incident_command", required=True))
    escalation = commands.add_parser("escalation", help="disputes and escalation (004 § 10)")
    add_escalation_commands(escalation.add_subparsers(dest="escalation_command", required=True))
