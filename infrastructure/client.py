"""``ssbtek query`` and ``ssbtek providers``: a gRPC client for people at a terminal.

The client shows the answer it receives; it writes nothing to disk. The commands' parsers
are ``infrastructure.client_commands`` (no grpc there); this module runs them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from google.rpc import error_details_pb2
from rich.console import Console
from rich.table import Table

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from infrastructure.cli_dates import date


def channel_for(args: argparse.Namespace) -> grpc.Channel:
    """Plaintext, or mutual TLS when the caller gives its certificate, key and the server's CA."""
    if not args.tls_certificate:
        return grpc.insecure_channel(args.target)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(args.tls_server_ca).read_bytes(),
        private_key=Path(args.tls_private_key).read_bytes(),
        certificate_chain=Path(args.tls_certificate).read_bytes(),
    )
    return grpc.secure_channel(args.target, credentials)


def _short(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).replace("_", " ").lower()


def _text(value: object) -> str:
    """A record value as a person reads it: dates as ISO dates, lists one item per line."""
    if isinstance(value, dict):
        if set(value) <= {"year", "month", "day"}:
            return (
                f"{value.get('year', 0):04d}-{value.get('month', 0):02d}-{value.get('day', 0):02d}"
            )
        return ", ".join(f"{key.replace('_', ' ')} {_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return "; ".join(_text(item) for item in value)
    return str(value)


def _record_lines(part: pb.ProviderPart) -> str:
    if part.outcome == pb.OUTCOME_KIND_CLOSED:
        return "outside the base service's opening hours"
    if part.outcome == pb.OUTCOME_KIND_NOT_ENTITLED:
        return "not entitled: no written consent for direct access to the vehicle register"
    if part.outcome == pb.OUTCOME_KIND_PROVIDER_NOT_CONNECTED:
        return "not asked: the provider is not connected to the service (004 § 17)"
    if part.outcome == pb.OUTCOME_KIND_PROVIDER_STOPPED:
        return "not asked: the provider has stopped serving this municipality (001 § 7.2)"
    if part.HasField("error"):
        error = part.error
        source = pb.ErrorSource.Name(error.source).removeprefix("ERROR_SOURCE_")
        return f"{source} {error.code}: {error.message}"
    record = MessageToDict(part.data, preserving_proto_field_name=True)
    fields: dict[str, Any] = next(iter(record.values()), {})
    lines: list[str] = []
    for key, value in fields.items():
        if isinstance(value, list):
            lines.extend(f"• {key.replace('_', ' ')}: {_text(item)}" for item in value)
        else:
            lines.append(f"{key.replace('_', ' ')}: {_text(value)}")
    return "\n".join(lines) or "nothing for the period"


def _print_answer(answer: pb.Answer, console: Console) -> None:
    from adapters.grpc.translation import PROTECTED_IDENTITY_TEXT  # the server's own words

    summary = answer.summary
    console.print(
        f"[bold]Query {answer.query_id}[/bold]: {summary.subject_count} subject(s), "
        f"{summary.answered} answered, {summary.no_data} no data, {summary.errors} errors, "
        f"{summary.closed} closed, {summary.not_entitled} not entitled, "
        f"{summary.provider_not_connected + summary.provider_stopped} not asked, "
        f"in {summary.elapsed.ToMilliseconds()} ms"
    )
    for subject in answer.subjects:
        table = Table(title=f"Subject {subject.subject}", show_lines=True, expand=True)
        table.add_column("Provider", no_wrap=True)
        table.add_column("Outcome", no_wrap=True)
        table.add_column("ms", justify="right")
        table.add_column("Data or error")
        for part in subject.parts:
            table.add_row(
                _short(pb.Provider.Name(part.provider), "PROVIDER_"),
                _short(pb.OutcomeKind.Name(part.outcome), "OUTCOME_KIND_"),
                str(part.latency.ToMilliseconds()),
                _record_lines(part),
            )
        console.print(table)
        if subject.HasField("protected_identity"):
            flagged = ", ".join(
                _short(pb.Provider.Name(p), "PROVIDER_")
                for p in subject.protected_identity.flagged_by
            )
            console.print(f"[bold red]{PROTECTED_IDENTITY_TEXT}[/bold red] (flagged by {flagged})")


def run_query(args: argparse.Namespace) -> int:
    today = dt.date.today()
    request = pb.SubmitQueryRequest(
        client_request_id=args.client_request_id or "",
        asking_organisation=pb.AskingOrganisation(
            organisation_number=args.organisation, name=args.organisation_name
        ),
        caseworker_id=args.caseworker,
        case_id=args.case,
        purpose=pb.Purpose.Value(f"PURPOSE_{args.purpose}"),
        legal_basis=pb.LegalBasis.Value(f"LEGAL_BASIS_{args.legal_basis}"),
        period=pb.Period(
            start=args.start or date((today - dt.timedelta(days=180)).isoformat()),
            end=args.end or date(today.isoformat()),
        ),
        subjects=args.subjects,
        providers=[
            pb.ProviderSelection(provider=pb.Provider.Value(f"PROVIDER_{p}")) for p in args.provider
        ],
    )
    with channel_for(args) as channel:
        stub = pb_grpc.QueryServiceStub(channel)
        try:
            response = stub.SubmitQuery(request, timeout=args.timeout)
        except grpc.RpcError as error:
            return report_error(error)
    if args.json:
        print(
            json.dumps(
                MessageToDict(response.answer, preserving_proto_field_name=True),
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        _print_answer(response.answer, Console())
    return 0


def report_error(error: grpc.RpcError) -> int:
    from grpc_status import rpc_status

    call: Any = error
    if call.code() is grpc.StatusCode.UNAVAILABLE and _never_connected(call.details()):
        print(
            "ssbtek: error: UNAVAILABLE: no service answers at that address "
            "(is `ssbtek serve` running? --target names another one)",
            file=sys.stderr,
        )
        return 2
    print(f"ssbtek: error: {call.code().name}: {call.details()}", file=sys.stderr)
    status = rpc_status.from_call(call)
    for detail in status.details if status else []:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            for violation in bad_request.field_violations:
                print(f"  {violation.field}: {violation.description}", file=sys.stderr)
    return 2


def _never_connected(details: str | None) -> bool:
    """grpc's wording when no connection could be made at all (refused, no route, no name)."""
    return bool(details) and "failed to connect to all addresses" in str(details)


def run_providers(args: argparse.Namespace) -> int:
    console = Console()
    with channel_for(args) as channel:
        stub = pb_grpc.QueryServiceStub(channel)
        try:
            if args.check:
                checked = stub.CheckProviders(pb.CheckProvidersRequest(), timeout=args.timeout)
                table = Table(title="Base services", expand=True)
                for column in (
                    "Provider",
                    "Reachable",
                    "Open now",
                    "ms",
                    "Breaker",
                    "Calls",
                    "Detail",
                ):
                    table.add_column(column)
                for status in checked.providers:
                    breaker = _short(pb.BreakerState.Name(status.breaker), "BREAKER_STATE_")
                    if status.HasField("unavailable_since"):
                        since = status.unavailable_since.ToDatetime(dt.UTC)
                        breaker += f" since {since:%H:%M:%S} UTC"
                    table.add_row(
                        _short(pb.Provider.Name(status.provider), "PROVIDER_"),
                        "yes" if status.reachable else "NO",
                        "yes" if status.open_now else "closed",
                        str(status.latency.ToMilliseconds()),
                        breaker,
                        f"{status.calls_in_progress}/{status.call_limit}",
                        status.detail,
                    )
            else:
                described = stub.DescribeProviders(
                    pb.DescribeProvidersRequest(), timeout=args.timeout
                )
                table = Table(title="Providers", show_lines=True, expand=True)
                for column in ("Provider", "Name", "Data", "Legal basis", "Opening hours"):
                    table.add_column(column)
                for item in described.providers:
                    table.add_row(
                        _short(pb.Provider.Name(item.provider), "PROVIDER_"),
                        item.name,
                        "; ".join(item.data_kinds),
                        "; ".join(item.legal_basis),
                        item.opening_hours + ("" if item.open_now else " (closed now)"),
                    )
        except grpc.RpcError as error:
            return report_error(error)
    console.print(table)
    return 0
