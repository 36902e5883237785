"""``ssbtek incident ...``: incidents and problems at the single point of contact (Bilaga 4 § 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2 as ipb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from infrastructure.cli_dates import MOMENT_HELP, timestamp
from infrastructure.cli_names import INCIDENT_IMPACTS, INCIDENT_PRIORITIES, PROVIDERS
from infrastructure.unary_commands import by_id, unary_command

if TYPE_CHECKING:  # grpc when a command runs: its ``--help`` stays light
    import grpc

    from infrastructure.unary_commands import Commands

PRIORITIES = INCIDENT_PRIORITIES
IMPACTS = INCIDENT_IMPACTS


def _stub(channel: grpc.Channel) -> Any:
    from adapters.grpc.generated.ssbtek.v1 import incident_service_pb2_grpc as ipb_grpc

    return ipb_grpc.IncidentServiceStub(channel)


def _priority(name: str | None) -> Any:
    return ipb.IncidentPriority.Value(f"INCIDENT_PRIORITY_{name}") if name else 0


def add_incident_commands(commands: Commands) -> None:
    register = unary_command(
        commands,
        "register",
        "register an incident reported to the single point of contact",
        _stub,
        "RegisterIncident",
        lambda a: ipb.RegisterIncidentRequest(
            reporter=ipb.IncidentReporter(
                organisation_number=a.organisation, reference=a.reference
            ),
            impact=ipb.IncidentImpact.Value(f"INCIDENT_IMPACT_{a.impact}"),
            priority=_priority(a.priority),
            providers=[qpb.Provider.Value(f"PROVIDER_{p}") for p in a.provider],
        ),
    )
    register.add_argument("--organisation", required=True, help="the reporter's orgnr")
    register.add_argument("--reference", required=True, help="the reporter's own ticket id")
    register.add_argument("--impact", required=True, choices=IMPACTS)
    register.add_argument("--priority", choices=PRIORITIES, help="default: the impact's")
    register.add_argument("--provider", action="append", default=[], choices=PROVIDERS)

    prioritise = unary_command(
        commands,
        "prioritise",
        "change an incident's priority (deadlines are recomputed)",
        _stub,
        "PrioritiseIncident",
        lambda a: ipb.PrioritiseIncidentRequest(incident_id=a.id, priority=_priority(a.priority)),
    )
    prioritise.add_argument("id")
    prioritise.add_argument("--priority", required=True, choices=PRIORITIES)

    for name, method, request, help_ in (
        ("respond", "RespondToIncident", ipb.RespondToIncidentRequest, "work has started"),
        ("resolve", "ResolveIncident", ipb.ResolveIncidentRequest, "the incident is resolved"),
        ("report-back", "ReportIncidentBack", ipb.ReportIncidentBackRequest, "reporter told"),
        ("get", "GetIncident", ipb.GetIncidentRequest, "one incident"),
    ):
        unary_command(
            commands, name, help_, _stub, method, by_id(request, "incident_id")
        ).add_argument("id")

    listing = unary_command(
        commands,
        "list",
        "incidents, newest first",
        _stub,
        "ListIncidents",
        lambda a: ipb.ListIncidentsRequest(open_only=a.open, limit=a.limit),
    )
    listing.add_argument("--open", action="store_true", help="only unresolved incidents")
    listing.add_argument("--limit", type=int, default=50)

    problem = commands.add_parser("problem", help="problems: root-cause investigations")
    _add_problem_commands(problem.add_subparsers(dest="problem_command", required=True))
    change = commands.add_parser("change", help="planned changes: service windows (§ 3.5.2)")
    _add_change_commands(change.add_subparsers(dest="change_command", required=True))


def _add_change_commands(commands: Commands) -> None:
    announce = unary_command(
        commands,
        "announce",
        "announce a service window at least 4 weeks ahead, outside opening hours",
        _stub,
        "AnnounceChange",
        lambda a: ipb.AnnounceChangeRequest(
            reference=a.reference, window_start=a.start, window_end=a.end
        ),
    )
    announce.add_argument("reference", help="the change's reference, e.g. CHG-0042")
    announce.add_argument(
        "--start", required=True, type=timestamp, metavar="TIME", help=f"start: {MOMENT_HELP}"
    )
    announce.add_argument(
        "--end", required=True, type=timestamp, metavar="TIME", help=f"end: {MOMENT_HELP}"
    )
    unary_command(
        commands,
        "complete",
        "the change is done (an overrun counts as unavailability)",
        _stub,
        "CompleteChange",
        by_id(ipb.CompleteChangeRequest, "change_id"),
    ).add_argument("id")
    listing = unary_command(
        commands,
        "list",
        "planned changes, newest first",
        _stub,
        "ListChanges",
        lambda a: ipb.ListChangesRequest(limit=a.limit),
    )
    listing.add_argument("--limit", type=int, default=50)


def _add_problem_commands(commands: Commands) -> None:
    register = unary_command(
        commands,
        "register",
        "register a problem behind one or more incidents",
        _stub,
        "RegisterProblem",
        lambda a: ipb.RegisterProblemRequest(
            incident_ids=a.incident, priority=_priority(a.priority)
        ),
    )
    register.add_argument("--incident", action="append", required=True, help="repeatable")
    register.add_argument("--priority", required=True, choices=PRIORITIES)

    link = unary_command(
        commands,
        "link",
        "link more incidents",
        _stub,
        "LinkIncidentsToProblem",
        lambda a: ipb.LinkIncidentsToProblemRequest(problem_id=a.id, incident_ids=a.incident),
    )
    link.add_argument("id")
    link.add_argument("--incident", action="append", required=True)

    prioritise = unary_command(
        commands,
        "prioritise",
        "change the priority",
        _stub,
        "PrioritiseProblem",
        lambda a: ipb.PrioritiseProblemRequest(problem_id=a.id, priority=_priority(a.priority)),
    )
    prioritise.add_argument("id")
    prioritise.add_argument("--priority", required=True, choices=PRIORITIES)

    known = unary_command(
        commands,
        "known-error",
        "the root cause is found",
        _stub,
        "EstablishKnownError",
        lambda a: ipb.EstablishKnownErrorRequest(
            problem_id=a.id, known_error=a.reference, workaround_available=a.workaround
        ),
    )
    known.add_argument("id")
    known.add_argument("--reference", required=True, help="the known-error reference")
    known.add_argument("--workaround", action="store_true")

    for name, method, request, help_ in (
        ("investigate", "StartProblemInvestigation", ipb.StartProblemInvestigationRequest, "start"),
        ("get", "GetProblem", ipb.GetProblemRequest, "one problem"),
    ):
        unary_command(
            commands, name, help_, _stub, method, by_id(request, "problem_id")
        ).add_argument("id")

    listing = unary_command(
        commands,
        "list",
        "problems, newest first",
        _stub,
        "ListProblems",
        lambda a: ipb.ListProblemsRequest(open_only=a.open, limit=a.limit),
    )
    listing.add_argument("--open", action="store_true")
    listing.add_argument("--limit", type=int, default=50)
