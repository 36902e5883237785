"""The SOAP facade proves its caller as the gRPC port does (ADR 24, 25): a certificate from
the trusted CA that proves no valid organisation, or one revoked while the server runs, is
refused before any handler runs (a fault with its reason; 403 for the WSDL), and health
still answers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from adapters.security.caller_identity import CallerIdentity
from adapters.security.revocation import RevocationList
from adapters.soap import contract
from adapters.soap.server import SoapServer, start_soap_server, tls_context
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.certificates import CertificateAuthority, Issued
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock
from tests.integration.soap.v10 import base_services
from tests.integration.test_personal_data_never_rests import WEDNESDAY_MORNING

CLIENT_CA = CertificateAuthority("Test client CA")
SERVER_CA = CertificateAuthority("Test server CA")
SERVER = SERVER_CA.issue_server()
SSBT = f"{{{contract.SSBT}}}"


@attrs.frozen
class Served:
    server: SoapServer
    crl: Path


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY, rate_limit="")
    queries = build_queries(
        settings, base_services=base_services(), clock=FakeClock(WEDNESDAY_MORNING)
    )
    (tmp_path / "client-ca.pem").write_bytes(CLIENT_CA.certificate_pem)
    (tmp_path / "client-ca.crl").write_bytes(CLIENT_CA.revocation_list())
    identity = CallerIdentity(
        RevocationList(tmp_path / "client-ca.crl", tmp_path / "client-ca.pem")
    )
    context = tls_context(SERVER.certificate_pem, SERVER.private_key_pem, CLIENT_CA.certificate_pem)
    server = await start_soap_server(queries, address="127.0.0.1:0", tls=context, identity=identity)
    yield Served(server, tmp_path / "client-ca.crl")
    await server.stop()
    queries.close()


def session_for(folder: Path, issued: Issued) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    (folder / "server-ca.pem").write_bytes(SERVER_CA.certificate_pem)
    (folder / "client.pem").write_bytes(issued.certificate_pem)
    (folder / "client.key").write_bytes(issued.private_key_pem)
    session.verify = str(folder / "server-ca.pem")
    session.cert = (str(folder / "client.pem"), str(folder / "client.key"))
    return session


def _felkod(response: requests.Response) -> str:
    found = etree.fromstring(response.content).find(f".//{SSBT}felkod")
    assert found is not None, response.text
    return str(found.text)


def _calls(served: Served, session: requests.Session) -> dict[str, requests.Response]:
    url = served.server.url
    return {
        "health": session.get(url.replace("/ssbtek", "/health"), timeout=10),
        "wsdl": session.get(f"{url}?wsdl", timeout=10),
        "query": session.post(
            url, data=b"<any/>", headers={"Content-Type": "text/xml"}, timeout=10
        ),
    }


async def test_a_certificate_that_proves_no_organisation_gets_only_health(
    served: Served, tmp_path: Path
) -> None:
    issued = CLIENT_CA.issue_client(
        x509.NameAttribute(NameOID.COMMON_NAME, "Verksamhetssystem"),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRSE-2120000143"),
    )
    calls = await asyncio.to_thread(_calls, served, session_for(tmp_path, issued))
    assert calls["health"].status_code == 200
    assert calls["wsdl"].status_code == 403
    assert "CERTIFICATE_PROVES_NO_ORGANISATION" in calls["wsdl"].text
    assert calls["query"].status_code == 500
    assert _felkod(calls["query"]) == "CERTIFICATE_PROVES_NO_ORGANISATION"


async def test_a_certificate_revoked_while_the_server_runs_is_refused_on_its_next_call(
    served: Served, tmp_path: Path
) -> None:
    issued = CLIENT_CA.issue_organisation("2120000142")
    session = session_for(tmp_path, issued)
    before = await asyncio.to_thread(_calls, served, session)
    staged = served.crl.with_suffix(".new")
    staged.write_bytes(CLIENT_CA.revocation_list(issued))
    os.replace(staged, served.crl)
    after = await asyncio.to_thread(_calls, served, session)
    assert before["wsdl"].status_code == 200
    assert _felkod(before["query"]) != "CERTIFICATE_REVOKED"  # parsed, refused as a bad body
    assert after["health"].status_code == 200
    assert after["wsdl"].status_code == 403
    assert _felkod(after["query"]) == "CERTIFICATE_REVOKED"


async def test_a_server_certificate_replaced_on_disk_is_served_to_the_next_connection(
    tmp_path: Path,
) -> None:
    from adapters.soap.tls_reload import reloading_tls_context

    files = tmp_path / "files"
    files.mkdir()
    for name, data in {
        "server.pem": SERVER.certificate_pem,
        "server.key": SERVER.private_key_pem,
        "client-ca.pem": CLIENT_CA.certificate_pem,
    }.items():
        (files / name).write_bytes(data)
    settings = Settings(store=Store.MEMORY, pseudonym_key_hex=TEST_KEY, rate_limit="")
    queries = build_queries(settings, base_services=base_services())
    context = reloading_tls_context(
        files / "server.pem", files / "server.key", files / "client-ca.pem"
    )
    server = await start_soap_server(queries, address="127.0.0.1:0", tls=context)
    try:
        renewing_ca, next_client_ca = (
            CertificateAuthority("Next server CA"),
            CertificateAuthority("Next client CA"),
        )
        renewed = renewing_ca.issue_server()
        client = next_client_ca.issue_organisation("2120000142")
        health = server.url.replace("/ssbtek", "/health")

        def get(folder: Path, server_ca: CertificateAuthority) -> int:
            folder.mkdir()
            session = session_for(folder, client)
            (folder / "server-ca.pem").write_bytes(server_ca.certificate_pem)
            return session.get(health, timeout=10).status_code

        with pytest.raises(requests.exceptions.SSLError):  # neither is trusted yet
            await asyncio.to_thread(get, tmp_path / "before", renewing_ca)
        for name, data in {
            "server.key": renewed.private_key_pem,
            "server.pem": renewed.certificate_pem,
            "client-ca.pem": CLIENT_CA.certificate_pem + next_client_ca.certificate_pem,
        }.items():
            (files / f"{name}.new").write_bytes(data)
            os.replace(files / f"{name}.new", files / name)
        assert await asyncio.to_thread(get, tmp_path / "after", renewing_ca) == 200
    finally:
        await server.stop()
        queries.close()
