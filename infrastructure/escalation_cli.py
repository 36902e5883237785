"""``ssbtek escalation ...``: disputes between the parties and the ladder of 004 § 10."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2 as epb
from infrastructure.cli_names import DISPUTE_FORUMS, DISPUTE_PARTY_ROLES
from infrastructure.unary_commands import Build, by_id, unary_command

if TYPE_CHECKING:  # grpc when a command runs: its ``--help`` stays light
    import grpc
    from google.protobuf.message import Message

    from infrastructure.unary_commands import Commands

ROLES = DISPUTE_PARTY_ROLES
FORUMS = DISPUTE_FORUMS


def _stub(channel: grpc.Channel) -> Any:
    from adapters.grpc.generated.ssbtek.v1 import escalation_service_pb2_grpc as epb_grpc

    return epb_grpc.EscalationServiceStub(channel)


def _forum(name: str | None) -> Any:
    return epb.DisputeForum.Value(f"DISPUTE_FORUM_{name}") if name else 0


def _party(text: str) -> epb.DisputeParty:
    """``212000-0142:MUNICIPALITY`` -> a dispute party."""
    number, _, written_role = text.rpartition(":")
    role = written_role.upper()
    if not number or role not in ROLES:
        raise argparse.ArgumentTypeError(f"use ORGANISATION-NUMBER:ROLE, ROLE one of {ROLES}")
    return epb.DisputeParty(
        organisation_number=number, role=epb.DisputePartyRole.Value(f"DISPUTE_PARTY_ROLE_{role}")
    )


def _actor(args: argparse.Namespace) -> epb.DisputeActor:
    return epb.DisputeActor(
        party=args.by,
        on_behalf_of=args.on_behalf_of,
        power_of_attorney=args.power_of_attorney or "",
    )


def _with_actor(request: Any) -> Build:
    def build(args: argparse.Namespace) -> Message:
        message: Message = request(escalation_id=args.id, by=_actor(args))
        return message

    return build


def _acting(parser: argparse.ArgumentParser, *, flag: str = "--by") -> None:
    parser.add_argument(flag, dest="by", type=_party, required=True, help="ORGNR:ROLE")
    parser.add_argument("--on-behalf-of", type=_party, help="SKR acting for ORGNR:MUNICIPALITY")
    parser.add_argument("--power-of-attorney", help="the power of attorney's reference")


def add_escalation_commands(commands: Commands) -> None:
    stub = _stub
    raise_ = unary_command(
        commands,
        "raise",
        "raise a dispute at a council",
        stub,
        "RaiseDispute",
        lambda a: epb.RaiseDisputeRequest(
            raised_by=_actor(a),
            parties=a.party,
            subject=a.subject,
            forum=_forum(a.forum),
        ),
    )
    _acting(raise_)
    raise_.add_argument("--party", type=_party, action="append", required=True, help="ORGNR:ROLE")
    raise_.add_argument("--subject", required=True, help="the dispute's document reference")
    raise_.add_argument("--forum", choices=FORUMS[:3], help="default: the lowest council")

    for name, method, request, help_ in (
        ("refer", "ReferToExpertCouncil", epb.ReferToExpertCouncilRequest, "to the expert council"),
        ("escalate", "EscalateDispute", epb.EscalateDisputeRequest, "to the next level"),
    ):
        parser = unary_command(
            commands,
            name,
            help_,
            stub,
            method,
            _with_actor(request),
        )
        parser.add_argument("id")
        _acting(parser)

    view = unary_command(
        commands,
        "view",
        "a party's view at level 1",
        stub,
        "SubmitView",
        lambda a: epb.SubmitViewRequest(escalation_id=a.id, by=_actor(a), view=a.view),
    )
    view.add_argument("id")
    _acting(view)
    view.add_argument("--view", required=True, help="the view's document reference")

    for name, method, message_class, field, help_ in (
        ("settle", "SettleDispute", epb.SettleDisputeRequest, "outcome", "settled at the council"),
        (
            "recommend",
            "RecordRecommendation",
            epb.RecordRecommendationRequest,
            "recommendation",
            "level 1's recommendation",
        ),
        (
            "provide-material",
            "ProvideMaterial",
            epb.ProvideMaterialRequest,
            "material",
            "the other group's material reaches level 2",
        ),
        ("decide", "DecideDispute", epb.DecideDisputeRequest, "decision", "level 2 decides"),
    ):
        parser = unary_command(
            commands,
            name,
            help_,
            stub,
            method,
            by_id(message_class, "escalation_id", **{field: "reference"}),
        )
        parser.add_argument("id")
        parser.add_argument("--reference", required=True, help=f"the {field}'s reference")

    material = unary_command(
        commands,
        "request-material",
        "level 2 sends it back for more material",
        stub,
        "RequestMaterial",
        lambda a: epb.RequestMaterialRequest(
            escalation_id=a.id,
            from_forum=epb.DisputeForum.Value(f"DISPUTE_FORUM_{a.from_group}"),
            group=a.group,
        ),
    )
    material.add_argument("id")
    material.add_argument(
        "--from", dest="from_group", required=True, choices=["STEERING_GROUP", "OTHER_GROUP"]
    )
    material.add_argument("--group", required=True, help="the group's reference")

    unary_command(
        commands,
        "get",
        "one escalation",
        stub,
        "GetEscalation",
        lambda a: epb.GetEscalationRequest(escalation_id=a.id),
    ).add_argument("id")
    listing = unary_command(
        commands,
        "list",
        "escalations, newest first",
        stub,
        "ListEscalations",
        lambda a: epb.ListEscalationsRequest(open_only=a.open, limit=a.limit),
    )
    listing.add_argument("--open", action="store_true")
    listing.add_argument("--limit", type=int, default=50)
