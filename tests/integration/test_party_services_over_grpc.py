"""The party and agreement services over a real gRPC channel (in-process server, real port):
a full onboarding, and each error status with the details a client can act on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from google.type.date_pb2 import Date
from grpc_status import rpc_status

from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import agreement_service_pb2_grpc as apb_grpc
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as pb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import interceptor_chain
from application.demo import seed_demo
from infrastructure.settings import Settings, Store
from tests.integration.party_world import (
    DEMO,
    DEMO_DIGITS,
    GOTHENBURG,
    MONDAY_MORNING,
    OPERATOR,
    SKR,
    World,
    open_world,
)

TODAY = Date(year=2026, month=3, day=2)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = open_world(Settings(store=Store.MEMORY, pseudonym_key_hex="22" * 32))
    yield world
    world.close()


@pytest.fixture
async def channel(world: World) -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=interceptor_chain())
    names = [
        register(server) for register in register_party_services(world.parties, world.agreements)
    ]
    assert names == ["ssbtek.v1.PartyService", "ssbtek.v1.AgreementService"]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(grace=1)


def status_of(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, list[object]]:
    status = rpc_status.from_call(error)
    assert status is not None
    details: list[object] = []
    for packed in status.details:
        for kind in (error_details_pb2.PreconditionFailure, error_details_pb2.BadRequest):
            detail = kind()
            if packed.Unpack(detail):
                details.append(detail)
    return error.code(), details


async def test_a_municipality_is_onboarded_step_by_step_over_grpc(
    channel: grpc.aio.Channel, world: World
) -> None:
    parties = pb_grpc.PartyServiceStub(channel)
    await parties.FoundParty(
        pb.FoundPartyRequest(organisation_number=SKR, name="SKR", roles=[pb.PARTY_ROLE_SKR])
    )
    await parties.FoundParty(
        pb.FoundPartyRequest(
            organisation_number=OPERATOR,
            name="Försäkringskassan",
            roles=[pb.PARTY_ROLE_OPERATOR, pb.PARTY_ROLE_DATA_PROVIDER],
            provider=qpb.PROVIDER_FORSAKRINGSKASSAN,
        )
    )
    applied = await parties.ApplyToJoin(
        pb.ApplyToJoinRequest(
            organisation_number=DEMO, name="Demo kommun", role=pb.PARTY_ROLE_MUNICIPALITY
        )
    )
    assert applied.party.status == pb.PARTY_STATUS_APPLIED
    assert list(applied.party.pending_acceptances) == [OPERATOR, SKR]
    for acceptor in (SKR, OPERATOR):
        accepted = await parties.RecordAcceptance(
            pb.RecordAcceptanceRequest(organisation_number=DEMO, accepted_by=acceptor)
        )
    assert accepted.party.status == pb.PARTY_STATUS_QUALIFIED
    await parties.CommissionOperator(pb.CommissionOperatorRequest(organisation_number=DEMO))
    form = pb.OrderForm(
        signed_on=TODAY,
        signed_by_authorised_representative=True,
        power_of_attorney_attached=True,
        proof_of_authority_attached=True,
    )
    await parties.SubmitOrderForm(
        pb.SubmitOrderFormRequest(organisation_number=DEMO, order_form=form)
    )
    approved = await parties.ApproveIntegration(
        pb.ApproveIntegrationRequest(organisation_number=DEMO)
    )
    target = approved.party.deadlines
    assert (target.connection_target.month, target.connection_target.day) == (3, 16)
    assert target.connection_target_state == pb.CONNECTION_TARGET_STATE_PENDING
    await parties.RecordVehicleRegisterConsent(
        pb.RecordVehicleRegisterConsentRequest(organisation_number=DEMO, granted_on=TODAY)
    )
    connected = await parties.ConnectParty(pb.ConnectPartyRequest(organisation_number=DEMO))
    assert connected.party.status == pb.PARTY_STATUS_CONNECTED
    assert connected.party.in_force_from == TODAY
    assert connected.party.deadlines.connection_target_state == pb.CONNECTION_TARGET_STATE_MET

    registered = await parties.RegisterCaseworker(
        pb.RegisterCaseworkerRequest(organisation_number=DEMO, caseworker_id="HL000009")
    )
    assert registered.caseworker.state == pb.CASEWORKER_STATE_REGISTERED
    signed = await parties.SignAssurance(
        pb.SignAssuranceRequest(organisation_number=DEMO, caseworker_id="HL000009", signed_on=TODAY)
    )
    assert signed.caseworker.state == pb.CASEWORKER_STATE_AUTHORISED
    listed = await parties.ListCaseworkers(pb.ListCaseworkersRequest(organisation_number=DEMO))
    assert [c.caseworker_pseudonym for c in listed.caseworkers] == [
        world.saga_pseudonym(DEMO_DIGITS, "HL000009")
    ]
    assert b"HL000009" not in listed.SerializeToString()
    decision = world.parties.decide(
        DEMO, world.saga_pseudonym(DEMO_DIGITS, "HL000009"), MONDAY_MORNING
    )
    assert decision.refusal is None

    notice = await parties.GiveWithdrawalNotice(
        pb.GiveWithdrawalNoticeRequest(organisation_number=DEMO)
    )
    deadlines = await parties.GetDeadlines(pb.GetDeadlinesRequest(organisation_number=DEMO))
    assert deadlines.deadlines.withdrawal_effective == Date(year=2026, month=12, day=31)
    assert notice.party.deadlines == deadlines.deadlines


async def test_a_broken_rule_is_failed_precondition_naming_the_rule_and_the_clause(
    channel: grpc.aio.Channel, world: World
) -> None:
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    parties = pb_grpc.PartyServiceStub(channel)
    await parties.ApplyToJoin(
        pb.ApplyToJoinRequest(
            organisation_number=GOTHENBURG, name="Göteborgs stad", role=pb.PARTY_ROLE_MUNICIPALITY
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await parties.CommissionOperator(
            pb.CommissionOperatorRequest(organisation_number=GOTHENBURG)
        )
    code, details = status_of(refused.value)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    (failure,) = details
    assert isinstance(failure, error_details_pb2.PreconditionFailure)
    (violation,) = failure.violations
    assert violation.subject == "004 § 9.1.5"
    assert violation.description == (
        "SKR commissions the operator only after every existing party has accepted"
    )
    assert "004 § 9.1.5" in (refused.value.details() or "")


async def test_an_unknown_party_is_not_found(channel: grpc.aio.Channel) -> None:
    parties = pb_grpc.PartyServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await parties.GetParty(pb.GetPartyRequest(organisation_number=GOTHENBURG))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert missing.value.details() == "no such party"


async def test_malformed_input_is_invalid_argument_naming_every_broken_field(
    channel: grpc.aio.Channel,
) -> None:
    parties = pb_grpc.PartyServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await parties.FoundParty(
            pb.FoundPartyRequest(
                organisation_number=SKR,
                name="SKR",
                roles=[pb.PARTY_ROLE_SKR, pb.PartyRole.ValueType(0), pb.PartyRole.ValueType(99)],
            )
        )
    code, details = status_of(malformed.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    (bad_request,) = details
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("roles[1]", "roles[1] is required"),
        ("roles[2]", "roles[2] is not a known value"),
    ]
    with pytest.raises(grpc.aio.AioRpcError) as bad_number:
        await parties.GetParty(pb.GetPartyRequest(organisation_number="212000-0143"))
    assert bad_number.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "212000-0143" not in (bad_number.value.details() or "")


async def test_the_agreement_service_answers_governing_documents_fees_and_invoices(
    channel: grpc.aio.Channel, world: World
) -> None:
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    agreements = apb_grpc.AgreementServiceStub(channel)
    governing = await agreements.GetGoverningDocuments(
        apb.GetGoverningDocumentsRequest(day=Date(year=2022, month=1, day=1))
    )
    assert [(g.rank, g.version.version) for g in governing.documents][3:5] == [
        (3, "1.0"),
        (4, "1.0"),
    ]
    invoice = await agreements.ComputeInvoice(
        apb.ComputeInvoiceRequest(organisation_number=DEMO, year=2026, population=984748)
    )
    assert (invoice.invoice.per_inhabitant, invoice.invoice.amount) == ("0.60", "590848.80")
    with pytest.raises(grpc.aio.AioRpcError) as bad_fee:
        await agreements.SetAnnualFee(apb.SetAnnualFeeRequest(year=2027, per_inhabitant="0,55"))
    assert bad_fee.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as too_early:
        await agreements.SetAnnualFee(apb.SetAnnualFeeRequest(year=2014, per_inhabitant="1.00"))
    assert too_early.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    acknowledged = await agreements.AcknowledgeDocumentVersion(
        apb.AcknowledgeDocumentVersionRequest(
            document=apb.AGREEMENT_DOCUMENT_SERVICE_DESCRIPTION_AND_TERMS,
            version="1.1",
            organisation_number=DEMO,
        )
    )
    assert [a.organisation_number for a in acknowledged.acknowledgements.acknowledged] == [DEMO]
