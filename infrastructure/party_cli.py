"""``ssbtek party ...`` and ``ssbtek agreement ...``: clients of the party and agreement services.

Each sub-command sends one request and prints the answer as a table. A caseworker id given
on the command line goes to the service only; the service answers with its pseudonym.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from infrastructure.agreement_cli import add_agreement_actions
from infrastructure.cli_kit import (
    Arg,
    Build,
    Commands,
    Show,
    add_command,
    arg,
    day_arg,
    short,
    text,
)
from infrastructure.cli_names import (
    BREACH_NOTIFIERS,
    DECISION_BODIES,
    PARTY_ROLES,
    PROVIDERS,
    REMOVAL_REASONS,
)
from infrastructure.cli_table import add_command_parser

if TYPE_CHECKING:  # grpc and rich when a command runs: ``ssbtek party --help`` stays light
    import grpc
    from google.protobuf.message import Message
    from rich.console import Console

ORG = arg("organisation", help="organisation number, NNNNNN-NNNN")
CASEWORKER = arg("caseworker", help="the caseworker's id (sent, never shown back)")
PROVIDER_ORG = arg("--provider-organisation", required=True, help="the data provider's number")
ROLES = PARTY_ROLES


def _stub(channel: grpc.Channel) -> Any:
    from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as pb_grpc

    return pb_grpc.PartyServiceStub(channel)


def add_party_commands(commands: Commands) -> None:
    """Add ``ssbtek party ...`` and ``ssbtek agreement ...`` to the ``ssbtek`` command."""
    fill_party(add_command_parser(commands, "party"))
    fill_agreement(add_command_parser(commands, "agreement"))


def fill_party(party: argparse.ArgumentParser) -> None:
    _add_party_actions(party.add_subparsers(dest="action", required=True))


def fill_agreement(agreement: argparse.ArgumentParser) -> None:
    add_agreement_actions(agreement.add_subparsers(dest="action", required=True))


# -- printing -------------------------------------------------------------------------------


def _deadline_rows(deadlines: pb.Deadlines) -> list[tuple[str, str]]:
    state = pb.ConnectionTargetState.Name(deadlines.connection_target_state)
    rows = [
        ("connection target", text(deadlines.connection_target)),
        ("connection target state", short(state, "CONNECTION_TARGET_STATE_")),
        ("withdrawal effective", text(deadlines.withdrawal_effective)),
        ("cure period ends", text(deadlines.cure_period_end)),
        ("forced exit", text(deadlines.forced_exit)),
    ]
    rows += [
        (f"comply with {c.provider_organisation_number} by", text(c.comply_by))
        for c in deadlines.compliance_deadlines
    ]
    return [(key, value) for key, value in rows if value and value != "unspecified"]


def _show_party(party: pb.Party, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"{party.name} {party.organisation_number}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    roles = ", ".join(short(pb.PartyRole.Name(r), "PARTY_ROLE_") for r in party.roles)
    rows = [
        ("status", short(pb.PartyStatus.Name(party.status), "PARTY_STATUS_")),
        ("as of", text(party.as_of)),
        ("roles", roles),
        ("provider", short(qpb.Provider.Name(party.provider), "PROVIDER_")),
        ("in force from", text(party.in_force_from)),
        ("vehicle register consent", "yes" if party.vehicle_register_consent else "no"),
        ("accepted by", ", ".join(a.organisation_number for a in party.acceptances)),
        ("acceptance pending", ", ".join(party.pending_acceptances)),
        ("providers stopped", ", ".join(party.stopped_providers)),
        *_deadline_rows(party.deadlines),
    ]
    for key, value in rows:
        if value and value != "unspecified":
            table.add_row(key, value)
    console.print(table)


def _show_parties(response: pb.ListPartiesResponse, console: Console) -> None:
    from rich.table import Table

    table = Table(title="Parties", expand=True)
    for column in ("Organisation", "Name", "Roles", "Status", "In force from"):
        table.add_column(column)
    for party in response.parties:
        table.add_row(
            party.organisation_number,
            party.name,
            ", ".join(short(pb.PartyRole.Name(r), "PARTY_ROLE_") for r in party.roles),
            short(pb.PartyStatus.Name(party.status), "PARTY_STATUS_"),
            text(party.in_force_from),
        )
    console.print(table)


def _show_caseworkers(caseworkers: Iterable[pb.Caseworker], console: Console) -> None:
    from rich.table import Table

    table = Table(title="Caseworkers (pseudonyms)", expand=True)
    for column in ("Pseudonym", "State", "Registered", "Assurance", "Revoked", "Removed"):
        table.add_column(column)
    for c in caseworkers:
        table.add_row(
            c.caseworker_pseudonym,
            short(pb.CaseworkerState.Name(c.state), "CASEWORKER_STATE_"),
            text(c.registered_on),
            text(c.assurance_signed_on),
            text(c.revoked_on),
            text(c.removed_on),
        )
    console.print(table)


def _show_deadlines(response: pb.GetDeadlinesResponse, console: Console) -> None:
    status = short(pb.PartyStatus.Name(response.status), "PARTY_STATUS_")
    from rich.table import Table

    table = Table(title=f"Deadlines of {response.organisation_number} ({status})")
    table.add_column("Deadline")
    table.add_column("Date")
    for key, value in _deadline_rows(response.deadlines):
        table.add_row(key, value)
    console.print(table)


# -- party requests -------------------------------------------------------------------------


def _provider(a: argparse.Namespace) -> qpb.Provider.ValueType:
    return qpb.Provider.Value(f"PROVIDER_{a.provider}") if a.provider else qpb.PROVIDER_UNSPECIFIED


def _found(a: argparse.Namespace) -> Message:
    return pb.FoundPartyRequest(
        organisation_number=a.organisation,
        name=a.name,
        roles=[pb.PartyRole.Value(f"PARTY_ROLE_{role}") for role in a.role],
        provider=_provider(a),
    )


def _apply(a: argparse.Namespace) -> Message:
    return pb.ApplyToJoinRequest(
        organisation_number=a.organisation,
        name=a.name,
        role=pb.PartyRole.Value(f"PARTY_ROLE_{a.role}"),
        provider=_provider(a),
    )


def _accept(a: argparse.Namespace) -> Message:
    return pb.RecordAcceptanceRequest(organisation_number=a.organisation, accepted_by=a.by)


def _order_form(a: argparse.Namespace) -> Message:
    form = pb.OrderForm(
        signed_on=a.signed_on,
        signed_by_authorised_representative=a.authorised,
        power_of_attorney_attached=a.power_of_attorney,
        proof_of_authority_attached=a.proof_of_authority,
    )
    return pb.SubmitOrderFormRequest(organisation_number=a.organisation, order_form=form)


def _consent(a: argparse.Namespace) -> Message:
    return pb.RecordVehicleRegisterConsentRequest(
        organisation_number=a.organisation, granted_on=a.granted_on
    )


def _caseworker_request(request: Callable[..., Message]) -> Build:
    def build(a: argparse.Namespace) -> Message:
        extra: dict[str, Any] = {}
        if getattr(a, "signed_on", None):
            extra["signed_on"] = a.signed_on
        if getattr(a, "reason", None):
            extra["reason"] = pb.RemovalReason.Value(f"REMOVAL_REASON_{a.reason}")
        return request(organisation_number=a.organisation, caseworker_id=a.caseworker, **extra)

    return build


def _breach(a: argparse.Namespace) -> Message:
    notifier = pb.BreachNotifier.Value(f"BREACH_NOTIFIER_{a.by}")
    return pb.NotifyBreachRequest(organisation_number=a.organisation, notified_by=notifier)


def _forced_exit(a: argparse.Namespace) -> Message:
    request = pb.RecordForcedExitRequest(
        organisation_number=a.organisation,
        decided_by=pb.DecisionBody.Value(f"DECISION_BODY_{a.decided_by}"),
    )
    if a.effective_on:
        request.effective_on.CopyFrom(a.effective_on)
    return request


def _of_party(request: Callable[..., Message]) -> Build:
    return lambda a: request(organisation_number=a.organisation)


def _with_provider(request: Callable[..., Message]) -> Build:
    return lambda a: request(
        organisation_number=a.organisation, provider_organisation_number=a.provider_organisation
    )


def _party(response: Any, console: Console) -> None:
    _show_party(response.party, console)


def _caseworker(response: Any, console: Console) -> None:
    _show_caseworkers([response.caseworker], console)


def _add_party_actions(actions: Commands) -> None:
    def add(name: str, help_text: str, rpc: str, build: Build, show: Show, *args: Arg) -> None:
        add_command(actions, name, help_text, _stub, rpc, build, show, *args)

    def change(name: str, help_text: str, rpc: str, request: Callable[..., Message]) -> None:
        add(name, help_text, rpc, _of_party(request), _party, ORG)

    add("list", "every party", "ListParties", lambda a: pb.ListPartiesRequest(), _show_parties)
    add(
        "show",
        "a party's status and deadlines",
        "GetParty",
        _of_party(pb.GetPartyRequest),
        _party,
        ORG,
    )
    add(
        "deadlines",
        "a party's deadlines",
        "GetDeadlines",
        _of_party(pb.GetDeadlinesRequest),
        _show_deadlines,
        ORG,
    )
    add(
        "caseworkers",
        "a municipality's caseworkers, by pseudonym",
        "ListCaseworkers",
        _of_party(pb.ListCaseworkersRequest),
        lambda r, c: _show_caseworkers(r.caseworkers, c),
        ORG,
    )
    add(
        "found",
        "record a signatory of the Överenskommelse",
        "FoundParty",
        _found,
        _party,
        ORG,
        arg("name"),
        arg("--role", action="append", required=True, choices=ROLES),
        arg("--provider", choices=PROVIDERS),
    )
    add(
        "apply",
        "apply to SKR to join (004 § 9.1.1)",
        "ApplyToJoin",
        _apply,
        _party,
        ORG,
        arg("name"),
        arg("--role", required=True, choices=ROLES),
        arg("--provider", choices=PROVIDERS),
    )
    add(
        "accept",
        "an existing party accepts the applicant (004 § 9.1.4)",
        "RecordAcceptance",
        _accept,
        _party,
        ORG,
        arg("--by", required=True, help="the accepting party"),
    )
    change(
        "commission",
        "SKR commissions the operator (004 § 9.1.5)",
        "CommissionOperator",
        pb.CommissionOperatorRequest,
    )
    add(
        "order-form",
        "the signed order form arrives (004 § 9.2.4-9.2.6)",
        "SubmitOrderForm",
        _order_form,
        _party,
        ORG,
        day_arg("--signed-on", "the day it was signed", required=True),
        arg("--authorised", action="store_true", help="signed by an authorised representative"),
        arg("--power-of-attorney", action="store_true"),
        arg("--proof-of-authority", action="store_true"),
    )
    change(
        "approve",
        "the operator approves the integration (004 § 9.2.7)",
        "ApproveIntegration",
        pb.ApproveIntegrationRequest,
    )
    change(
        "connect",
        "access enabled: the agreement is in force (004 § 9.2.8)",
        "ConnectParty",
        pb.ConnectPartyRequest,
    )
    add(
        "consent",
        "the written vehicle-register consent (002)",
        "RecordVehicleRegisterConsent",
        _consent,
        _party,
        ORG,
        day_arg("--granted-on", "the day consent was granted", required=True),
    )
    change(
        "withdraw-consent",
        "the vehicle-register consent ends (002)",
        "WithdrawVehicleRegisterConsent",
        pb.WithdrawVehicleRegisterConsentRequest,
    )
    add(
        "register-caseworker",
        "register a caseworker",
        "RegisterCaseworker",
        _caseworker_request(pb.RegisterCaseworkerRequest),
        _caseworker,
        ORG,
        CASEWORKER,
    )
    add(
        "sign-assurance",
        "the caseworker signed the assurance (004 § 9.2.9)",
        "SignAssurance",
        _caseworker_request(pb.SignAssuranceRequest),
        _caseworker,
        ORG,
        CASEWORKER,
        day_arg("--signed-on", "the day it was signed", required=True),
    )
    add(
        "revoke-caseworker",
        "revoke at once for misuse (004 § 12.4.5)",
        "RevokeCaseworker",
        _caseworker_request(pb.RevokeCaseworkerRequest),
        _caseworker,
        ORG,
        CASEWORKER,
    )
    add(
        "remove-caseworker",
        "left or changed tasks (004 § 12.4.5)",
        "RemoveCaseworker",
        _caseworker_request(pb.RemoveCaseworkerRequest),
        _caseworker,
        ORG,
        CASEWORKER,
        arg("--reason", required=True, choices=REMOVAL_REASONS),
    )
    change(
        "withdraw",
        "written notice of withdrawal (004 § 17.1)",
        "GiveWithdrawalNotice",
        pb.GiveWithdrawalNoticeRequest,
    )
    add(
        "notify-breach",
        "a written notice of breach (004 § 18.1; 001 § 7.1)",
        "NotifyBreach",
        _breach,
        _party,
        ORG,
        arg("--by", required=True, choices=BREACH_NOTIFIERS),
    )
    change(
        "breach-remedied",
        "the breach was cured in time",
        "RecordBreachRemedied",
        pb.RecordBreachRemediedRequest,
    )
    change(
        "terminate",
        "disconnect after an uncured breach",
        "TerminateForBreach",
        pb.TerminateForBreachRequest,
    )
    add(
        "forced-exit",
        "an authority's decision forces an exit (004 § 17.3)",
        "RecordForcedExit",
        _forced_exit,
        _party,
        ORG,
        arg("--decided-by", required=True, choices=DECISION_BODIES),
        day_arg("--effective-on", "first day without access, default today"),
    )
    add(
        "qualification-change",
        "a provider's conditions changed (001 § 7.2)",
        "NotifyQualificationChange",
        _with_provider(pb.NotifyQualificationChangeRequest),
        _party,
        ORG,
        PROVIDER_ORG,
    )
    add(
        "qualification-complied",
        "the municipality complied in time (001 § 7.2)",
        "RecordQualificationCompliance",
        _with_provider(pb.RecordQualificationComplianceRequest),
        _party,
        ORG,
        PROVIDER_ORG,
    )
    add(
        "stop-provider",
        "the provider stops serving the municipality (001 § 7.2)",
        "StopProviderService",
        _with_provider(pb.StopProviderServiceRequest),
        _party,
        ORG,
        PROVIDER_ORG,
    )
