"""Only the operator and SKR administer: over mutual TLS a municipality's certificate may
query, and gets PERMISSION_DENIED from the administration services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from adapters.grpc.authorisation import AdministratorsOnly
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as ppb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as ppb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as qpb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as qpb_grpc
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import build_server
from adapters.grpc.tls import server_credentials
from adapters.providers.simulated import build_simulated_base_services
from adapters.security.pseudonymiser import HmacPseudonymiser
from adapters.system_clock import SystemClock
from infrastructure.composition import ADMINISTRATION_SERVICES, build_parties, build_queries
from infrastructure.settings import Settings, Store
from tests.certificates import CertificateAuthority, Issued

CLIENT_CA = CertificateAuthority("Client CA")
SERVER_CA = CertificateAuthority("Server CA")
SERVER = SERVER_CA.issue_server()
OPERATOR = "2021005521"
MUNICIPALITY = "2120000142"


@pytest.fixture
async def target() -> AsyncIterator[str]:
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex="88" * 32, rate_limit="")
    clock = SystemClock()
    parties, agreements = build_parties(
        settings, clock=clock, pseudonymiser=HmacPseudonymiser(bytes.fromhex("88" * 32))
    )
    queries = build_queries(
        settings, base_services=build_simulated_base_services({"latency": "none"})
    )
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        credentials=server_credentials(
            SERVER.certificate_pem, SERVER.private_key_pem, CLIENT_CA.certificate_pem
        ),
        interceptors=[AdministratorsOnly(ADMINISTRATION_SERVICES, settings.administrators)],
        services=register_party_services(parties, agreements),
    )
    await server.start()
    yield f"localhost:{port}"
    await server.stop(grace=None)
    for app in (queries, agreements, parties):
        app.close()


def channel(target: str, client: Issued) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=SERVER_CA.certificate_pem,
        private_key=client.private_key_pem,
        certificate_chain=client.certificate_pem,
    )
    return grpc.aio.secure_channel(target, credentials)


async def test_the_operator_may_administer_the_parties(target: str) -> None:
    async with channel(target, CLIENT_CA.issue_organisation(OPERATOR)) as opened:
        listed = await ppb_grpc.PartyServiceStub(opened).ListParties(
            ppb.ListPartiesRequest(), timeout=10
        )
    assert list(listed.parties) == []


async def test_a_municipality_may_query_but_not_administer(target: str) -> None:
    async with channel(target, CLIENT_CA.issue_organisation(MUNICIPALITY)) as opened:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await ppb_grpc.PartyServiceStub(opened).ListParties(
                ppb.ListPartiesRequest(), timeout=10
            )
        described = await qpb_grpc.QueryServiceStub(opened).DescribeProviders(
            qpb.DescribeProvidersRequest(), timeout=10
        )
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "ADMINISTRATORS_ONLY" in (refused.value.details() or "")
    assert len(described.providers) == 8
