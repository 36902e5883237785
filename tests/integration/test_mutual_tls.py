"""Mutual TLS: only clients with a certificate from the configured CA get in, and the
organisation in the certificate is the only one they may ask for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.type.date_pb2 import Date
from grpc_reflection.v1alpha import reflection_pb2_grpc

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from adapters.grpc.tls import organisation_of, server_credentials
from adapters.providers.simulated import build_simulated_base_services
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.certificates import CertificateAuthority, Issued

MUNICIPALITY = "2120000142"
ANOTHER_MUNICIPALITY = "2021005521"
CLIENT_CA = CertificateAuthority("Test client CA")
SERVER_CA = CertificateAuthority("Test server CA")
SERVER = SERVER_CA.issue_server()


def request(organisation: str) -> pb.SubmitQueryRequest:
    return pb.SubmitQueryRequest(
        asking_organisation=pb.AskingOrganisation(organisation_number=organisation),
        caseworker_id="HL000001",
        case_id="EKB-2026-0001",
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=6, day=30)
        ),
        subjects=["19121212-1212"],
        providers=[pb.ProviderSelection(provider=pb.PROVIDER_CSN)],
    )


@pytest.fixture
async def target() -> AsyncIterator[str]:
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex="33" * 32, rate_limit="")
    queries = build_queries(
        settings, base_services=build_simulated_base_services({"latency": "none"})
    )
    credentials = server_credentials(
        SERVER.certificate_pem, SERVER.private_key_pem, CLIENT_CA.certificate_pem
    )
    server, port = await build_server(
        queries, address="127.0.0.1:0", credentials=credentials, reflection_enabled=False
    )
    await server.start()
    yield f"localhost:{port}"
    await server.stop(grace=None)
    queries.close()


def channel(target: str, client: Issued | None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=SERVER_CA.certificate_pem,
        private_key=client.private_key_pem if client else None,
        certificate_chain=client.certificate_pem if client else None,
    )
    return grpc.aio.secure_channel(target, credentials)


async def test_a_municipality_with_its_certificate_may_ask_for_itself(target: str) -> None:
    async with channel(target, CLIENT_CA.issue_organisation(MUNICIPALITY)) as opened:
        response = await pb_grpc.QueryServiceStub(opened).SubmitQuery(
            request(MUNICIPALITY), timeout=10
        )
    assert len(response.answer.subjects[0].parts) == 1


async def test_a_request_naming_another_organisation_is_permission_denied(target: str) -> None:
    async with channel(target, CLIENT_CA.issue_organisation(MUNICIPALITY)) as opened:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.QueryServiceStub(opened).SubmitQuery(
                request(ANOTHER_MUNICIPALITY), timeout=10
            )
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "ORGANISATION_MISMATCH" in (refused.value.details() or "")


@pytest.mark.parametrize(
    "client",
    [
        None,
        CertificateAuthority("Another CA").issue_organisation(MUNICIPALITY),
        CLIENT_CA.issue_organisation(MUNICIPALITY, expired=True),
    ],
    ids=["no certificate", "another CA", "expired"],
)
async def test_without_a_valid_client_certificate_the_handshake_fails(
    target: str, client: Issued | None
) -> None:
    async with channel(target, client) as opened:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.QueryServiceStub(opened).SubmitQuery(request(MUNICIPALITY), timeout=5)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_reflection_is_off_in_production_mode(target: str) -> None:
    async with channel(target, CLIENT_CA.issue_organisation(MUNICIPALITY)) as opened:
        # The call opens without a request iterator: with one, the client may still be
        # writing when the server's UNIMPLEMENTED arrives, and grpc.aio then reports INTERNAL
        # for its own failed write (seen once in CI). The status alone is what is asked.
        call = reflection_pb2_grpc.ServerReflectionStub(opened).ServerReflectionInfo(timeout=5)
        code = await call.code()
        v1: grpc.aio.StreamStreamMultiCallable[bytes, bytes] = opened.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        )
        v1_code = await v1(timeout=5).code()
    assert code is grpc.StatusCode.UNIMPLEMENTED
    assert v1_code is grpc.StatusCode.UNIMPLEMENTED


def test_the_organisation_is_read_from_the_organisation_identifier_or_not_at_all() -> None:
    assert (
        organisation_of(CLIENT_CA.issue_organisation(MUNICIPALITY).certificate_pem) == MUNICIPALITY
    )
    assert organisation_of(SERVER.certificate_pem) is None
