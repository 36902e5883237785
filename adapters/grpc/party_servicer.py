"""``GrpcPartyServicer``: thin. Translate the request, make one application call, translate back.

The applications are synchronous (each call is one read-change-save against the store), so
each call runs in a worker thread. ``register_party_services`` adds the party and the
agreement services to a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, ParamSpec

import grpc

from adapters.grpc.agreement_servicer import AGREEMENT_SERVICE, GrpcAgreementServicer
from adapters.grpc.fields import Fields, given
from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2_grpc as apb_grpc
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as pb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from adapters.grpc.interceptors import Context
from adapters.grpc.party_translation import (
    caseworker_to_proto,
    deadlines_to_proto,
    party_to_proto,
    status_to_proto,
)
from adapters.grpc.server import ServiceRegistration
from application.agreements import Agreements
from application.parties import Parties
from application.party_views import CaseworkerView, PartyView
from domain.party.values import BreachNotifier, DecisionBody, OrderForm, PartyRole, RemovalReason
from domain.providers import Provider

PARTY_SERVICE: Final = pb.DESCRIPTOR.services_by_name["PartyService"].full_name
P = ParamSpec("P")


async def _party(call: Callable[P, PartyView], *args: P.args, **kwargs: P.kwargs) -> pb.Party:
    return party_to_proto(await asyncio.to_thread(call, *args, **kwargs))


async def _caseworker(
    call: Callable[P, CaseworkerView], *args: P.args, **kwargs: P.kwargs
) -> pb.Caseworker:
    return caseworker_to_proto(await asyncio.to_thread(call, *args, **kwargs))


class GrpcPartyServicer(pb_grpc.PartyServiceServicer):
    def __init__(self, parties: Parties) -> None:
        self._parties = parties

    # -- joining ---------------------------------------------------------------------------

    async def FoundParty(
        self, request: pb.FoundPartyRequest, context: Context
    ) -> pb.FoundPartyResponse:
        fields = Fields()
        roles = [
            fields.enum(f"roles[{i}]", pb.PartyRole.Name, role, "PARTY_ROLE_", PartyRole)
            for i, role in enumerate(request.roles)
        ]
        provider = fields.enum(
            "provider", qpb.Provider.Name, request.provider, "PROVIDER_", Provider, required=False
        )
        fields.done()
        party = await _party(
            self._parties.found,
            request.organisation_number,
            request.name,
            [given(role) for role in roles],
            provider,
        )
        return pb.FoundPartyResponse(party=party)

    async def ApplyToJoin(
        self, request: pb.ApplyToJoinRequest, context: Context
    ) -> pb.ApplyToJoinResponse:
        fields = Fields()
        role = fields.enum("role", pb.PartyRole.Name, request.role, "PARTY_ROLE_", PartyRole)
        provider = fields.enum(
            "provider", qpb.Provider.Name, request.provider, "PROVIDER_", Provider, required=False
        )
        fields.done()
        party = await _party(
            self._parties.apply, request.organisation_number, request.name, given(role), provider
        )
        return pb.ApplyToJoinResponse(party=party)

    async def RecordAcceptance(
        self, request: pb.RecordAcceptanceRequest, context: Context
    ) -> pb.RecordAcceptanceResponse:
        party = await _party(self._parties.accept, request.organisation_number, request.accepted_by)
        return pb.RecordAcceptanceResponse(party=party)

    async def CommissionOperator(
        self, request: pb.CommissionOperatorRequest, context: Context
    ) -> pb.CommissionOperatorResponse:
        party = await _party(self._parties.commission_operator, request.organisation_number)
        return pb.CommissionOperatorResponse(party=party)

    async def SubmitOrderForm(
        self, request: pb.SubmitOrderFormRequest, context: Context
    ) -> pb.SubmitOrderFormResponse:
        fields = Fields()
        form = request.order_form
        signed_on = fields.date("order_form.signed_on", form.signed_on)
        fields.done()
        order_form = OrderForm(
            signed_on=given(signed_on),
            signed_by_authorised_representative=form.signed_by_authorised_representative,
            power_of_attorney_attached=form.power_of_attorney_attached,
            proof_of_authority_attached=form.proof_of_authority_attached,
        )
        party = await _party(
            self._parties.submit_order_form, request.organisation_number, order_form
        )
        return pb.SubmitOrderFormResponse(party=party)

    async def ApproveIntegration(
        self, request: pb.ApproveIntegrationRequest, context: Context
    ) -> pb.ApproveIntegrationResponse:
        party = await _party(self._parties.approve_integration, request.organisation_number)
        return pb.ApproveIntegrationResponse(party=party)

    async def ConnectParty(
        self, request: pb.ConnectPartyRequest, context: Context
    ) -> pb.ConnectPartyResponse:
        party = await _party(self._parties.connect, request.organisation_number)
        return pb.ConnectPartyResponse(party=party)

    async def RecordVehicleRegisterConsent(
        self, request: pb.RecordVehicleRegisterConsentRequest, context: Context
    ) -> pb.RecordVehicleRegisterConsentResponse:
        fields = Fields()
        granted_on = fields.date("granted_on", request.granted_on)
        fields.done()
        party = await _party(
            self._parties.record_vehicle_register_consent,
            request.organisation_number,
            given(granted_on),
        )
        return pb.RecordVehicleRegisterConsentResponse(party=party)

    async def WithdrawVehicleRegisterConsent(
        self, request: pb.WithdrawVehicleRegisterConsentRequest, context: Context
    ) -> pb.WithdrawVehicleRegisterConsentResponse:
        party = await _party(
            self._parties.withdraw_vehicle_register_consent, request.organisation_number
        )
        return pb.WithdrawVehicleRegisterConsentResponse(party=party)

    # -- caseworkers -----------------------------------------------------------------------

    async def RegisterCaseworker(
        self, request: pb.RegisterCaseworkerRequest, context: Context
    ) -> pb.RegisterCaseworkerResponse:
        caseworker = await _caseworker(
            self._parties.register_caseworker, request.organisation_number, request.caseworker_id
        )
        return pb.RegisterCaseworkerResponse(caseworker=caseworker)

    async def SignAssurance(
        self, request: pb.SignAssuranceRequest, context: Context
    ) -> pb.SignAssuranceResponse:
        fields = Fields()
        signed_on = fields.date("signed_on", request.signed_on)
        fields.done()
        caseworker = await _caseworker(
            self._parties.sign_assurance,
            request.organisation_number,
            request.caseworker_id,
            given(signed_on),
        )
        return pb.SignAssuranceResponse(caseworker=caseworker)

    async def RevokeCaseworker(
        self, request: pb.RevokeCaseworkerRequest, context: Context
    ) -> pb.RevokeCaseworkerResponse:
        caseworker = await _caseworker(
            self._parties.revoke_caseworker, request.organisation_number, request.caseworker_id
        )
        return pb.RevokeCaseworkerResponse(caseworker=caseworker)

    async def RemoveCaseworker(
        self, request: pb.RemoveCaseworkerRequest, context: Context
    ) -> pb.RemoveCaseworkerResponse:
        fields = Fields()
        reason = fields.enum(
            "reason", pb.RemovalReason.Name, request.reason, "REMOVAL_REASON_", RemovalReason
        )
        fields.done()
        caseworker = await _caseworker(
            self._parties.remove_caseworker,
            request.organisation_number,
            request.caseworker_id,
            given(reason),
        )
        return pb.RemoveCaseworkerResponse(caseworker=caseworker)

    # -- leaving ---------------------------------------------------------------------------

    async def GiveWithdrawalNotice(
        self, request: pb.GiveWithdrawalNoticeRequest, context: Context
    ) -> pb.GiveWithdrawalNoticeResponse:
        party = await _party(self._parties.give_withdrawal_notice, request.organisation_number)
        return pb.GiveWithdrawalNoticeResponse(party=party)

    async def NotifyBreach(
        self, request: pb.NotifyBreachRequest, context: Context
    ) -> pb.NotifyBreachResponse:
        fields = Fields()
        notified_by = fields.enum(
            "notified_by",
            pb.BreachNotifier.Name,
            request.notified_by,
            "BREACH_NOTIFIER_",
            BreachNotifier,
        )
        fields.done()
        party = await _party(
            self._parties.notify_breach, request.organisation_number, given(notified_by)
        )
        return pb.NotifyBreachResponse(party=party)

    async def RecordBreachRemedied(
        self, request: pb.RecordBreachRemediedRequest, context: Context
    ) -> pb.RecordBreachRemediedResponse:
        party = await _party(self._parties.record_breach_remedied, request.organisation_number)
        return pb.RecordBreachRemediedResponse(party=party)

    async def TerminateForBreach(
        self, request: pb.TerminateForBreachRequest, context: Context
    ) -> pb.TerminateForBreachResponse:
        party = await _party(self._parties.terminate_for_breach, request.organisation_number)
        return pb.TerminateForBreachResponse(party=party)

    async def RecordForcedExit(
        self, request: pb.RecordForcedExitRequest, context: Context
    ) -> pb.RecordForcedExitResponse:
        fields = Fields()
        decided_by = fields.enum(
            "decided_by", pb.DecisionBody.Name, request.decided_by, "DECISION_BODY_", DecisionBody
        )
        effective_on = fields.date("effective_on", request.effective_on, required=False)
        fields.done()
        party = await _party(
            self._parties.record_forced_exit,
            request.organisation_number,
            given(decided_by),
            effective_on,
        )
        return pb.RecordForcedExitResponse(party=party)

    async def NotifyQualificationChange(
        self, request: pb.NotifyQualificationChangeRequest, context: Context
    ) -> pb.NotifyQualificationChangeResponse:
        party = await _party(
            self._parties.notify_qualification_change,
            request.organisation_number,
            request.provider_organisation_number,
        )
        return pb.NotifyQualificationChangeResponse(party=party)

    async def RecordQualificationCompliance(
        self, request: pb.RecordQualificationComplianceRequest, context: Context
    ) -> pb.RecordQualificationComplianceResponse:
        party = await _party(
            self._parties.record_qualification_compliance,
            request.organisation_number,
            request.provider_organisation_number,
        )
        return pb.RecordQualificationComplianceResponse(party=party)

    async def StopProviderService(
        self, request: pb.StopProviderServiceRequest, context: Context
    ) -> pb.StopProviderServiceResponse:
        party = await _party(
            self._parties.stop_provider_service,
            request.organisation_number,
            request.provider_organisation_number,
        )
        return pb.StopProviderServiceResponse(party=party)

    # -- queries ---------------------------------------------------------------------------

    async def GetParty(self, request: pb.GetPartyRequest, context: Context) -> pb.GetPartyResponse:
        party = await _party(self._parties.party, request.organisation_number)
        return pb.GetPartyResponse(party=party)

    async def ListParties(
        self, request: pb.ListPartiesRequest, context: Context
    ) -> pb.ListPartiesResponse:
        views = await asyncio.to_thread(self._parties.parties)
        return pb.ListPartiesResponse(parties=[party_to_proto(v) for v in views])

    async def ListCaseworkers(
        self, request: pb.ListCaseworkersRequest, context: Context
    ) -> pb.ListCaseworkersResponse:
        views = await asyncio.to_thread(self._parties.caseworkers, request.organisation_number)
        return pb.ListCaseworkersResponse(caseworkers=[caseworker_to_proto(v) for v in views])

    async def GetDeadlines(
        self, request: pb.GetDeadlinesRequest, context: Context
    ) -> pb.GetDeadlinesResponse:
        view = await asyncio.to_thread(self._parties.party, request.organisation_number)
        return pb.GetDeadlinesResponse(
            organisation_number=view.organisation_number,
            status=status_to_proto(view.status),
            deadlines=deadlines_to_proto(view),
        )


def register_party_services(parties: Parties, agreements: Agreements) -> list[ServiceRegistration]:
    """The registrations of the party and agreement services, for ``build_server``."""

    def party_service(server: grpc.aio.Server) -> str:
        pb_grpc.add_PartyServiceServicer_to_server(GrpcPartyServicer(parties), server)
        return PARTY_SERVICE

    def agreement_service(server: grpc.aio.Server) -> str:
        apb_grpc.add_AgreementServiceServicer_to_server(GrpcAgreementServicer(agreements), server)
        return AGREEMENT_SERVICE

    return [party_service, agreement_service]
