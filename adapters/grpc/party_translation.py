"""Translation between the party and agreement messages and the application's types.

Requests are read with ``adapters.grpc.fields.Fields`` (enums and dates, every broken field
collected and reported at once: field name and rule, never the value); organisation numbers
and caseworker ids are passed on as given, for the application to judge.
"""

from __future__ import annotations

import datetime as dt

from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from application.party_views import (
    Acknowledgements,
    CaseworkerView,
    GoverningDocument,
    Invoice,
    PartyView,
)
from domain.agreement.values import AnnualFee, DocumentVersion
from domain.party.values import Deadlines, PartyStatus
from domain.providers import Provider


def date_to_proto(day: dt.date) -> Date:
    return Date(year=day.year, month=day.month, day=day.day)


def _set_date(message: Date, day: dt.date | None) -> None:
    if day is not None:
        message.CopyFrom(date_to_proto(day))


def provider_to_proto(provider: Provider | None) -> qpb.Provider.ValueType:
    if provider is None:
        return qpb.PROVIDER_UNSPECIFIED
    return qpb.Provider.Value(f"PROVIDER_{provider.name}")


def _target_state(view: PartyView) -> pb.ConnectionTargetState.ValueType:
    deadlines = view.deadlines
    if deadlines.connected_within_target is not None:
        met = deadlines.connected_within_target
        return pb.CONNECTION_TARGET_STATE_MET if met else pb.CONNECTION_TARGET_STATE_MISSED
    if deadlines.connection_target is None or view.status is not PartyStatus.INTEGRATION_APPROVED:
        return pb.CONNECTION_TARGET_STATE_UNSPECIFIED
    if view.connection_overdue:
        return pb.CONNECTION_TARGET_STATE_OVERDUE
    return pb.CONNECTION_TARGET_STATE_PENDING


def deadlines_to_proto(view: PartyView) -> pb.Deadlines:
    deadlines: Deadlines = view.deadlines
    message = pb.Deadlines(
        connection_target_state=_target_state(view),
        compliance_deadlines=[
            pb.ComplianceDeadline(
                provider_organisation_number=change.provider_organisation,
                notified_on=date_to_proto(change.notified_on),
                comply_by=date_to_proto(change.comply_by),
            )
            for change in deadlines.compliance_deadlines
        ],
    )
    if deadlines.cure_notified_by is not None:
        message.cure_notified_by = pb.BreachNotifier.Value(
            f"BREACH_NOTIFIER_{deadlines.cure_notified_by.name}"
        )
    _set_date(message.connection_target, deadlines.connection_target)
    _set_date(message.withdrawal_effective, deadlines.withdrawal_effective_on)
    _set_date(message.cure_period_end, deadlines.cure_period_ends_on)
    _set_date(message.forced_exit, deadlines.forced_exit_on)
    return message


def status_to_proto(status: PartyStatus) -> pb.PartyStatus.ValueType:
    return pb.PartyStatus.Value(f"PARTY_STATUS_{status.name}")


def party_to_proto(view: PartyView) -> pb.Party:
    message = pb.Party(
        organisation_number=view.organisation_number,
        name=view.name,
        roles=[pb.PartyRole.Value(f"PARTY_ROLE_{role.name}") for role in view.roles],
        provider=provider_to_proto(view.provider),
        status=status_to_proto(view.status),
        as_of=date_to_proto(view.as_of),
        acceptances=[
            pb.Acceptance(
                organisation_number=a.organisation_number, accepted_on=date_to_proto(a.accepted_on)
            )
            for a in view.acceptances
        ],
        pending_acceptances=list(view.pending_acceptances),
        vehicle_register_consent=view.vehicle_register_consent,
        stopped_providers=list(view.stopped_providers),
        deadlines=deadlines_to_proto(view),
    )
    _set_date(message.in_force_from, view.in_force_from)
    return message


def caseworker_to_proto(view: CaseworkerView) -> pb.Caseworker:
    message = pb.Caseworker(
        caseworker_pseudonym=view.pseudonym,
        state=pb.CaseworkerState.Value(f"CASEWORKER_STATE_{view.state.name}"),
        registered_on=date_to_proto(view.registered_on),
    )
    if view.removal_reason is not None:
        message.removal_reason = pb.RemovalReason.Value(
            f"REMOVAL_REASON_{view.removal_reason.name}"
        )
    _set_date(message.assurance_signed_on, view.assurance_signed_on)
    _set_date(message.revoked_on, view.revoked_on)
    _set_date(message.removed_on, view.removed_on)
    return message


# -- the agreement ------------------------------------------------------------------------


def document_to_proto(version: DocumentVersion) -> apb.DocumentVersion:
    return apb.DocumentVersion(
        document=apb.AgreementDocument.Value(f"AGREEMENT_DOCUMENT_{version.document.name}"),
        version=version.version,
        effective_from=date_to_proto(version.effective_from),
        announced_on=date_to_proto(version.announced_on),
    )


def governing_to_proto(governing: GoverningDocument) -> apb.GoverningDocument:
    return apb.GoverningDocument(rank=governing.rank, version=document_to_proto(governing.version))


def acknowledgements_to_proto(acks: Acknowledgements) -> apb.Acknowledgements:
    return apb.Acknowledgements(
        document=apb.AgreementDocument.Value(f"AGREEMENT_DOCUMENT_{acks.document.name}"),
        version=acks.version,
        acknowledged=[
            apb.Acknowledgement(
                organisation_number=a.organisation_number,
                acknowledged_on=date_to_proto(a.accepted_on),
            )
            for a in acks.acknowledged
        ],
        pending=list(acks.pending),
    )


def fee_to_proto(fee: AnnualFee) -> apb.AnnualFee:
    return apb.AnnualFee(
        year=fee.year,
        per_inhabitant=str(fee.per_inhabitant),
        decided_on=date_to_proto(fee.decided_on),
    )


def invoice_to_proto(invoice: Invoice) -> apb.Invoice:
    return apb.Invoice(
        organisation_number=invoice.organisation_number,
        year=invoice.year,
        population=invoice.population,
        per_inhabitant=str(invoice.per_inhabitant),
        amount=str(invoice.amount),
    )
