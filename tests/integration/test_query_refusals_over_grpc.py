"""The query saga with the Parties application as its access policy, over a real gRPC
channel, on SQLite and PostgreSQL: every refusal is clear to the caller and leaves a
non-personal ``Rejected`` event with its reason (004 § 9.2.8-9.2.9, § 12.4.5; 002)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import grpc
import pytest
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import build_server
from adapters.providers.simulated import build_simulated_base_services
from application.demo import DEMO_CASEWORKER, seed_demo
from application.queries import Queries
from domain.providers import STOCKHOLM
from domain.query.aggregate import Query
from infrastructure.composition import build_queries
from infrastructure.settings import Settings
from tests.integration.party_world import DEMO, DEMO_DIGITS, OPERATOR, World, open_world

WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)


@pytest.fixture
async def served(
    durable_store_settings: Settings,
) -> AsyncIterator[tuple[pb_grpc.QueryServiceAsyncStub, World, Queries]]:
    world = open_world(durable_store_settings)
    world.clock.advance(WEDNESDAY - world.clock.now())
    seed_demo(world.parties, world.agreements, world.clock.now())
    queries = build_queries(
        durable_store_settings,
        base_services=build_simulated_base_services({"latency": "none"}),
        clock=world.clock,
        access_policy=world.parties,
    )
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        services=register_party_services(world.parties, world.agreements),
    )
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.QueryServiceStub(channel), world, queries
    await server.stop(grace=None)
    queries.close()
    world.close()


def request(organisation: str = DEMO, caseworker: str = DEMO_CASEWORKER) -> pb.SubmitQueryRequest:
    return pb.SubmitQueryRequest(
        asking_organisation=pb.AskingOrganisation(organisation_number=organisation),
        caseworker_id=caseworker,
        case_id="EKB-2026-0001",
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=10, day=31)
        ),
        subjects=["19121212-1212"],
        providers=[
            pb.ProviderSelection(provider=pb.PROVIDER_CSN),
            pb.ProviderSelection(provider=pb.PROVIDER_TRANSPORTSTYRELSEN),
        ],
    )


def rejections(queries: Queries) -> list[tuple[str, str]]:
    events = [
        queries.mapper.to_domain_event(n) for n in queries.recorder.select_notifications(1, 10_000)
    ]
    return [
        (e.asking_organisation, e.reason.value) for e in events if isinstance(e, Query.Rejected)
    ]


async def test_refusals_are_permission_denied_with_their_reason_and_recorded(
    served: tuple[pb_grpc.QueryServiceAsyncStub, World, Queries],
) -> None:
    stub, world, queries = served
    answered = await stub.SubmitQuery(request(), timeout=10)
    assert answered.answer.summary.answered + answered.answer.summary.no_data == 2

    cases = [
        (request(caseworker="HL999999"), "CASEWORKER_UNKNOWN"),
        (request(organisation=OPERATOR), "ORGANISATION_NOT_CONNECTED"),
    ]
    world.parties.revoke_caseworker(DEMO, DEMO_CASEWORKER)
    cases.append((request(), "CASEWORKER_REVOKED"))
    for call, reason in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.SubmitQuery(call, timeout=10)
        assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert reason in (refused.value.details() or "")
        assert "HL999999" not in (refused.value.details() or "")

    assert rejections(queries) == [
        (DEMO_DIGITS, "CASEWORKER_UNKNOWN"),
        ("2021005521", "ORGANISATION_NOT_CONNECTED"),
        (DEMO_DIGITS, "CASEWORKER_REVOKED"),
    ]


async def test_without_vehicle_consent_transportstyrelsen_is_not_entitled(
    served: tuple[pb_grpc.QueryServiceAsyncStub, World, Queries],
) -> None:
    stub, world, _ = served
    world.parties.withdraw_vehicle_register_consent(DEMO)
    answer = (await stub.SubmitQuery(request(), timeout=10)).answer
    outcomes = {part.provider: part.outcome for part in answer.subjects[0].parts}
    assert outcomes[pb.PROVIDER_TRANSPORTSTYRELSEN] == pb.OUTCOME_KIND_NOT_ENTITLED
    assert answer.summary.not_entitled == 1
