"""Every caller is who its certificate proves (ADR 24), over real mutual TLS with a PKI made
here: a certificate from the trusted CA that proves no valid organisation is refused
``UNAUTHENTICATED`` on every method but health; a certificate revoked while the server runs
is refused on its next call; a server certificate replaced on disk is served to the next new
connection, without a restart (ADR 25)."""

from __future__ import annotations

import logging
import os
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from pathlib import Path

import attrs
import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from adapters.grpc.authorisation import AdministratorsOnly
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as ppb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as ppb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.identity import CallerInterceptor
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import build_server
from adapters.grpc.tls_reload import ReloadingServerCredentials
from adapters.providers.simulated import build_simulated_base_services
from adapters.security.caller_identity import CallerIdentity
from adapters.security.pseudonymiser import HmacPseudonymiser
from adapters.security.revocation import RevocationList
from adapters.system_clock import SystemClock
from infrastructure.composition import ADMINISTRATION_SERVICES, build_parties, build_queries
from infrastructure.settings import Settings, Store
from tests.certificates import CertificateAuthority, Issued
from tests.integration.test_mutual_tls import request

CLIENT_CA = CertificateAuthority("Client CA")
SERVER_CA = CertificateAuthority("Server CA")
OPERATOR = "2021005521"
MUNICIPALITY = "2120000142"


def _write(path: Path, data: bytes) -> None:
    """Replace a file the way an operator's deploy does: a new file renamed over the old."""
    staged = path.with_suffix(".new")
    staged.write_bytes(data)
    os.replace(staged, path)


@attrs.frozen
class Served:
    target: str
    folder: Path
    files: ReloadingServerCredentials

    @property
    def crl(self) -> Path:
        return self.folder / "client-ca.crl"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    server_pair = SERVER_CA.issue_server()
    _write(tmp_path / "server.pem", server_pair.certificate_pem)
    _write(tmp_path / "server.key", server_pair.private_key_pem)
    _write(tmp_path / "client-ca.pem", CLIENT_CA.certificate_pem)
    _write(tmp_path / "client-ca.crl", CLIENT_CA.revocation_list())
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex="77" * 32, rate_limit="")
    parties, agreements = build_parties(
        settings, clock=SystemClock(), pseudonymiser=HmacPseudonymiser(bytes.fromhex("77" * 32))
    )
    queries = build_queries(
        settings, base_services=build_simulated_base_services({"latency": "none"})
    )
    files = ReloadingServerCredentials(
        tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "client-ca.pem"
    )
    revocations = RevocationList(tmp_path / "client-ca.crl", tmp_path / "client-ca.pem")
    server, port = await build_server(
        queries,
        address="127.0.0.1:0",
        credentials=files.credentials(),
        reflection_enabled=False,
        interceptors=[
            CallerInterceptor(CallerIdentity(revocations)),
            AdministratorsOnly(ADMINISTRATION_SERVICES, settings.administrators),
        ],
        services=register_party_services(parties, agreements),
    )
    await server.start()
    yield Served(f"localhost:{port}", tmp_path, files)
    await server.stop(grace=None)
    for app in (queries, agreements, parties):
        app.close()


def channel(
    target: str, client: Issued, root: CertificateAuthority = SERVER_CA
) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=root.certificate_pem,
        private_key=client.private_key_pem,
        certificate_chain=client.certificate_pem,
    )
    # A channel of its own each time: no subchannel shared with an earlier test's connection.
    return grpc.aio.secure_channel(
        target, credentials, options=[("grpc.use_local_subchannel_pool", 1)]
    )


def reason_of(error: grpc.aio.AioRpcError) -> str:
    found = rpc_status.from_call(error)
    assert found is not None
    for detail in found.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    raise AssertionError("no ErrorInfo")


def _client(*attributes: x509.NameAttribute[str]) -> Issued:
    return CLIENT_CA.issue_client(
        x509.NameAttribute(NameOID.COMMON_NAME, "Verksamhetssystem"), *attributes
    )


PROVING_NOTHING = {
    "no organisation number": _client(),
    "wrong check digit": _client(
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRSE-2120000143")
    ),
    "nine digits": _client(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRSE-212000014")),
    "letters": _client(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRSE-21200001AB")),
    "serialNumber with a wrong check digit": _client(
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "2021005522")
    ),
    "organisation name only": _client(x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Demo kommun")),
}


@pytest.mark.parametrize("client", PROVING_NOTHING.values(), ids=PROVING_NOTHING.keys())
async def test_a_certificate_that_proves_no_organisation_is_unauthenticated_but_for_health(
    served: Served, client: Issued, caplog: pytest.LogCaptureFixture
) -> None:
    calls: dict[str, Callable[[grpc.aio.Channel], Awaitable[object]]] = {
        "a query": lambda opened: pb_grpc.QueryServiceStub(opened).SubmitQuery(
            request(MUNICIPALITY), timeout=10
        ),
        "a stream": lambda opened: _first(
            pb_grpc.QueryServiceStub(opened).StreamQuery(
                pb.StreamQueryRequest.FromString(request(MUNICIPALITY).SerializeToString()),
                timeout=10,
            )
        ),
        "administration": lambda opened: ppb_grpc.PartyServiceStub(opened).ListParties(
            ppb.ListPartiesRequest(), timeout=10
        ),
        "DescribeProviders": lambda opened: pb_grpc.QueryServiceStub(opened).DescribeProviders(
            pb.DescribeProvidersRequest(), timeout=10
        ),
    }
    caplog.set_level(logging.WARNING, logger="adapters.grpc.identity")
    async with channel(served.target, client) as opened:
        health = await health_pb2_grpc.HealthStub(opened).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
        refusals = {}
        for name, call in calls.items():
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(opened)
            refusals[name] = (refused.value.code(), reason_of(refused.value))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    expected = (grpc.StatusCode.UNAUTHENTICATED, "CERTIFICATE_PROVES_NO_ORGANISATION")
    assert refusals == dict.fromkeys(calls, expected)
    serial = format(client.serial_number, "x")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(calls)
    assert all(serial in r.getMessage() and "CN=<withheld>" in r.getMessage() for r in warnings)


async def _first(call: AsyncIterable[object]) -> None:
    async for _ in call:
        return


async def test_a_valid_organisation_in_serial_number_or_organization_identifier_gets_in(
    served: Served,
) -> None:
    for client in (
        _client(x509.NameAttribute(NameOID.SERIAL_NUMBER, MUNICIPALITY)),
        CLIENT_CA.issue_organisation("212000-0142"),
    ):
        async with channel(served.target, client) as opened:
            described = await pb_grpc.QueryServiceStub(opened).DescribeProviders(
                pb.DescribeProvidersRequest(), timeout=10
            )
            answered = await pb_grpc.QueryServiceStub(opened).SubmitQuery(
                request(MUNICIPALITY), timeout=10
            )
        assert len(described.providers) > 0
        assert len(answered.answer.subjects) == 1


async def test_a_certificate_revoked_while_the_server_runs_is_refused_on_its_next_call(
    served: Served,
) -> None:
    compromised = CLIENT_CA.issue_organisation(MUNICIPALITY)
    other = CLIENT_CA.issue_organisation(MUNICIPALITY)
    async with channel(served.target, compromised) as opened, channel(served.target, other) as ok:
        stub, other_stub = pb_grpc.QueryServiceStub(opened), pb_grpc.QueryServiceStub(ok)
        await stub.DescribeProviders(pb.DescribeProvidersRequest(), timeout=10)
        _write(served.crl, CLIENT_CA.revocation_list(compromised, der=True))
        with pytest.raises(grpc.aio.AioRpcError) as refused:  # the same connection
            await stub.DescribeProviders(pb.DescribeProvidersRequest(), timeout=10)
        still = await other_stub.DescribeProviders(pb.DescribeProvidersRequest(), timeout=10)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert reason_of(refused.value) == "CERTIFICATE_REVOKED"
    assert len(still.providers) > 0


async def test_a_revocation_list_another_ca_signed_is_not_taken(served: Served) -> None:
    client = CLIENT_CA.issue_organisation(MUNICIPALITY)
    forged = CertificateAuthority("Client CA").revocation_list(client)  # same name, other key
    _write(served.crl, forged)
    async with channel(served.target, client) as opened:
        described = await pb_grpc.QueryServiceStub(opened).DescribeProviders(
            pb.DescribeProvidersRequest(), timeout=10
        )
    assert len(described.providers) > 0


def served_certificate(target: str, client: Issued, folder: Path) -> x509.Certificate:
    """The certificate the server presents to a new TLS connection (read with ``ssl``)."""
    (folder / "c.pem").write_bytes(client.certificate_pem)
    (folder / "c.key").write_bytes(client.private_key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(folder / "c.pem", folder / "c.key")
    context.set_alpn_protocols(["h2"])
    host, _, port = target.rpartition(":")
    with (
        socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


async def test_a_server_certificate_replaced_on_disk_is_served_to_the_next_connection(
    served: Served,
) -> None:
    client = CLIENT_CA.issue_organisation(MUNICIPALITY)
    before = served_certificate(served.target, client, served.folder)
    renewing_ca = CertificateAuthority("Server CA, next year")
    renewed = renewing_ca.issue_server()
    async with channel(served.target, client) as kept:  # a connection open across the renewal
        kept_stub = pb_grpc.QueryServiceStub(kept)
        await kept_stub.DescribeProviders(pb.DescribeProvidersRequest(), timeout=10)
        _write(served.folder / "server.key", renewed.private_key_pem)
        _write(served.folder / "server.pem", renewed.certificate_pem)
        after = served_certificate(served.target, client, served.folder)
        async with channel(served.target, client, root=renewing_ca) as opened:
            described = await pb_grpc.QueryServiceStub(opened).DescribeProviders(
                pb.DescribeProvidersRequest(), timeout=10
            )
        still = await kept_stub.DescribeProviders(pb.DescribeProvidersRequest(), timeout=10)
    assert before.serial_number != renewed.serial_number
    assert after.serial_number == renewed.serial_number
    assert len(described.providers) > 0
    assert len(still.providers) > 0
    assert served.files.not_valid_after == after.not_valid_after_utc
    assert 9 < served.files.days_left() < 11  # tests.certificates issues for ten days


async def test_a_new_client_ca_on_disk_admits_its_certificates_without_a_restart(
    served: Served,
) -> None:
    next_ca = CertificateAuthority("Client CA, next generation")
    client = next_ca.issue_organisation(MUNICIPALITY)
    async with channel(served.target, client) as opened:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.QueryServiceStub(opened).DescribeProviders(
                pb.DescribeProvidersRequest(), timeout=10
            )
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE  # the handshake fails
    _write(served.folder / "client-ca.pem", CLIENT_CA.certificate_pem + next_ca.certificate_pem)
    async with channel(served.target, client) as opened:
        described = await pb_grpc.QueryServiceStub(opened).DescribeProviders(
            pb.DescribeProvidersRequest(), timeout=10
        )
    assert len(described.providers) > 0


async def test_broken_files_on_disk_are_not_taken_and_the_server_keeps_serving(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    client = CLIENT_CA.issue_organisation(MUNICIPALITY)
    before = served_certificate(served.target, client, served.folder)
    _write(served.folder / "server.key", SERVER_CA.issue_server().private_key_pem)  # not its pair
    with caplog.at_level(logging.ERROR, logger="adapters.security.tls_files"):
        after = served_certificate(served.target, client, served.folder)
    assert after.serial_number == before.serial_number
    assert any("does not match" in r.getMessage() for r in caplog.records)
    assert all("PRIVATE KEY" not in r.getMessage() for r in caplog.records)
