"""Every caller is held to account for what it tried (ADR 24): the service as the composition
root builds it, over mutual TLS with a PKI made here. Municipality A's certificate asks as B
(and as C): each refusal names A as the caller and B (or C) as the organisation claimed; the
AuditService replays A's attempts by caller and none under B; the monthly report counts them
against A, not B, and lists them as a security event of A's."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry

from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as apb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as apb_grpc
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from domain.providers import STOCKHOLM
from infrastructure.composition import build_grpc_server, build_service, seed_demo_data
from infrastructure.settings import Settings, Store
from tests.certificates import CertificateAuthority, Issued
from tests.conftest import TEST_KEY
from tests.integration.test_mutual_tls import request

CLIENT_CA = CertificateAuthority("Client CA")
SERVER_CA = CertificateAuthority("Server CA")
A = "2120000142"  # the demo municipality: connected, with caseworker HL000001
B = "2120000159"
C = "2120000126"


@attrs.frozen
class Running:
    target: str
    metrics: CollectorRegistry
    crl: Path


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    server_pair = SERVER_CA.issue_server()
    for name, data in {
        "server.pem": server_pair.certificate_pem,
        "server.key": server_pair.private_key_pem,
        "client-ca.pem": CLIENT_CA.certificate_pem,
        "client-ca.crl": CLIENT_CA.revocation_list(),
    }.items():
        (tmp_path / name).write_bytes(data)
    settings = Settings(
        store=Store.MEMORY,
        data_dir=tmp_path,
        pseudonym_key_hex=TEST_KEY,
        listen="127.0.0.1:0",
        rate_limit="",
        tls_certificate=tmp_path / "server.pem",
        tls_private_key=tmp_path / "server.key",
        tls_client_ca=tmp_path / "client-ca.pem",
        tls_crl=tmp_path / "client-ca.crl",
    )
    service = build_service(settings)
    seed_demo_data(service)
    server, port = await build_grpc_server(service, settings)
    await server.start()
    yield Running(f"localhost:{port}", service.metrics.registry, tmp_path / "client-ca.crl")
    await server.stop(grace=None)
    service.close()


def channel(target: str, client: Issued) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=SERVER_CA.certificate_pem,
        private_key=client.private_key_pem,
        certificate_chain=client.certificate_pem,
    )
    return grpc.aio.secure_channel(target, credentials)


async def _replay(
    stub: apb_grpc.AuditServiceAsyncStub,
    *,
    callers: tuple[str, ...] = (),
    asking_organisations: tuple[str, ...] = (),
) -> list[dict[str, object]]:
    events = []
    chosen = apb.ReplayEventsRequest(
        applications=["queries"],
        event_types=["Query.Rejected"],
        callers=callers,
        asking_organisations=asking_organisations,
    )
    async for response in stub.ReplayEvents(chosen, timeout=10):
        events.append(json.loads(response.event.state_json))
    return events


async def test_a_municipality_asking_as_another_is_on_record_as_itself(running: Running) -> None:
    async with channel(running.target, CLIENT_CA.issue_organisation(A)) as opened:
        queries = pb_grpc.QueryServiceStub(opened)
        answered = await queries.SubmitQuery(request(A), timeout=10)
        for claimed in (B, B, C):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await queries.SubmitQuery(request(claimed), timeout=10)
            assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
        audit = apb_grpc.AuditServiceStub(opened)
        by_a = await _replay(audit, callers=(A,))
        filed_under_b = await _replay(audit, asking_organisations=(B,))
        by_b = await _replay(audit, callers=("212000-0159",))
        now = dt.datetime.now(STOCKHOLM)
        report = await audit.GetReport(
            apb.GetReportRequest(year=now.year, month=now.month), timeout=30
        )

    assert len(answered.answer.subjects) == 1
    assert sorted(
        (e["asking_organisation"], e["caller"], e["claimed_organisation"]) for e in by_a
    ) == [(A, A, C), (A, A, B), (A, A, B)]
    assert filed_under_b == []
    assert by_b == []

    document = json.loads(report.report_json)
    usage = {row["organisation"]: row for row in document["usage"]["organisations"]}
    assert usage["212000-0142"]["rejected"] == 3
    assert usage["212000-0142"]["queries"] == 1
    assert "212000-0159" not in usage  # B made no call: it is shown no refusal
    (event,) = document["security_events"]
    assert event["caller"] == "212000-0142"
    assert event["claimed"] == ["212000-0126", "212000-0159"]
    assert event["attempts"] == 3


async def test_the_days_until_the_server_certificate_expires_are_a_metric(
    running: Running,
) -> None:
    client = CLIENT_CA.issue_client(x509.NameAttribute(NameOID.COMMON_NAME, "No organisation"))
    async with channel(running.target, client) as opened:
        with pytest.raises(grpc.aio.AioRpcError):
            await pb_grpc.QueryServiceStub(opened).SubmitQuery(request(A), timeout=10)
    days = running.metrics.get_sample_value("ssbtek_tls_server_certificate_expiry_days")
    assert days is not None
    assert 9 < days < 11
    refused = running.metrics.get_sample_value(
        "ssbtek_callers_refused_total", {"reason": "CERTIFICATE_PROVES_NO_ORGANISATION"}
    )
    assert refused == 1
    loaded = "ssbtek_tls_revocation_list_loaded"
    assert running.metrics.get_sample_value(loaded) == 1
    running.crl.write_bytes(b"not a CRL")
    assert running.metrics.get_sample_value(loaded) == 0


async def test_a_followed_replay_ends_at_its_next_event_once_its_certificate_is_revoked(
    running: Running,
) -> None:
    auditor = CLIENT_CA.issue_organisation(A)
    other = CLIENT_CA.issue_organisation(C)
    async with channel(running.target, auditor) as opened, channel(running.target, other) as c:
        followed = apb_grpc.AuditServiceStub(opened).ReplayEvents(
            apb.ReplayEventsRequest(applications=["queries"], follow=True), timeout=30
        )
        with pytest.raises(grpc.aio.AioRpcError):  # an event: C asks as B
            await pb_grpc.QueryServiceStub(c).SubmitQuery(request(B), timeout=10)
        first = await followed.read()
        assert isinstance(first, apb.ReplayEventsResponse)
        running.crl.write_bytes(CLIENT_CA.revocation_list(auditor))
        with pytest.raises(grpc.aio.AioRpcError):  # the next event
            await pb_grpc.QueryServiceStub(c).SubmitQuery(request(B), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await _read_to_the_end(followed)
    assert ended.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "CERTIFICATE_REVOKED" in (ended.value.details() or "")


async def _read_to_the_end(
    stream: grpc.aio.UnaryStreamCall[apb.ReplayEventsRequest, apb.ReplayEventsResponse],
) -> None:
    while await stream.read() is not grpc.aio.EOF:
        pass
    raise AssertionError("the stream ended without a status")
