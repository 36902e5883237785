"""The SOAP facade over mutual TLS, as in production: the asking organisation is the one
the client certificate names; a request naming another is refused and recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from adapters.soap.server import SoapServer, start_soap_server, tls_context
from application.queries import Queries
from domain.query.aggregate import Query
from domain.query.values import EntryPoint
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.certificates import CertificateAuthority, Issued
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock
from tests.integration.soap.v10 import (
    BLOCKS,
    base_services,
    events_of,
    fault_detail,
    general_parameters,
)
from tests.integration.test_personal_data_never_rests import WEDNESDAY_MORNING

CLIENT_CA = CertificateAuthority("Test client CA")
SERVER_CA = CertificateAuthority("Test server CA")
SERVER = SERVER_CA.issue_server()


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[SoapServer, Queries]]:
    settings = Settings(store=Store.SQLITE, data_dir=tmp_path / "var", pseudonym_key_hex=TEST_KEY)
    queries = build_queries(
        settings, base_services=base_services(), clock=FakeClock(WEDNESDAY_MORNING)
    )
    context = tls_context(SERVER.certificate_pem, SERVER.private_key_pem, CLIENT_CA.certificate_pem)
    server = await start_soap_server(queries, address="127.0.0.1:0", tls=context)
    yield server, queries
    await server.stop()
    queries.close()


def client_for(server: SoapServer, folder: Path, issued: Issued | None) -> Any:
    session = requests.Session()
    session.trust_env = False  # a CA bundle from the environment must not replace ours
    (folder / "server-ca.pem").write_bytes(SERVER_CA.certificate_pem)
    session.verify = str(folder / "server-ca.pem")
    if issued is not None:
        (folder / "client.pem").write_bytes(issued.certificate_pem)
        (folder / "client.key").write_bytes(issued.private_key_pem)
        session.cert = (str(folder / "client.pem"), str(folder / "client.key"))
    transport = Transport(session=session)  # type: ignore[no-untyped-call]
    return zeep.Client(f"{server.url}?wsdl", transport=transport)  # type: ignore[no-untyped-call]


async def ask(client: Any, organisation: str) -> Any:
    ingivare = {"organisationsnummer": organisation, "namn": "Kommun", "handlaggare": "HL1"}
    return await asyncio.to_thread(
        client.service.hamtaBastjanstInformation,
        generellaFrageparametrar=general_parameters(
            ingivare=ingivare,
            tidsperiod={"fromDatum": dt.date(2026, 1, 1), "tomDatum": dt.date(2026, 6, 30)},
        ),
        specifikaFrageparametrar={tag: {"inkludera": tag == "TNS"} for tag in BLOCKS},
    )


async def test_the_organisation_of_the_certificate_may_ask_for_itself_only(
    tls_server: tuple[SoapServer, Queries], tmp_path: Path
) -> None:
    server, queries = tls_server
    assert server.url.startswith("https://")
    issued = CLIENT_CA.issue_organisation("2120000142")
    client = await asyncio.to_thread(client_for, server, tmp_path, issued)

    answered = await ask(client, "162120000142")
    assert answered.svarsdata.TNS is not None
    with pytest.raises(zeep.exceptions.Fault) as raised:
        await ask(client, "162021005521")
    code, messages = fault_detail(raised.value)
    assert code == "ORGANISATION_MISMATCH"
    assert messages[0].startswith("generellaFrageparametrar.ingivare.organisationsnummer ")
    (rejected,) = events_of(queries, Query.Rejected)
    assert (rejected.reason.value, rejected.entry_point) == (
        "ORGANISATION_MISMATCH",
        EntryPoint.SOAP_V10,
    )


async def test_a_schema_refused_query_is_recorded_against_the_certificate_s_organisation(
    tls_server: tuple[SoapServer, Queries], tmp_path: Path
) -> None:
    server, queries = tls_server
    client = await asyncio.to_thread(
        client_for, server, tmp_path, CLIENT_CA.issue_organisation("2120000142")
    )
    for named in ("162021005521", "16202100552"):  # another organisation; none at all
        with pytest.raises(zeep.exceptions.Fault) as raised:
            await asyncio.to_thread(
                client.service.hamtaBastjanstInformation,
                generellaFrageparametrar=general_parameters(
                    ingivare={"organisationsnummer": named, "namn": "K", "handlaggare": "HL1"},
                    personidentitet="1912-12-12-1212",
                ),
                specifikaFrageparametrar={tag: {"inkludera": tag == "TNS"} for tag in BLOCKS},
            )
        assert fault_detail(raised.value)[0] == "SCHEMA_VIOLATION"
    another, none = events_of(queries, Query.Rejected)
    for rejected in (another, none):
        assert (rejected.reason.value, rejected.entry_point) == (
            "INVALID_ARGUMENT",
            EntryPoint.SOAP_V10,
        )
        assert (rejected.asking_organisation, rejected.caller) == ("2120000142", "2120000142")
    assert another.claimed_organisation == "2021005521"
    assert none.claimed_organisation == ""
    assert "generellaFrageparametrar.personidentitet" in another.fields


@pytest.mark.parametrize("certificate", ["none", "another CA", "expired"])
async def test_without_a_valid_client_certificate_the_handshake_fails(
    tls_server: tuple[SoapServer, Queries], tmp_path: Path, certificate: str
) -> None:
    server, _ = tls_server
    issued = {
        "none": None,
        "another CA": CertificateAuthority("Other CA").issue_organisation("2120000142"),
        "expired": CLIENT_CA.issue_organisation("2120000142", expired=True),
    }[certificate]
    with pytest.raises(requests.exceptions.RequestException):
        await asyncio.to_thread(client_for, server, tmp_path, issued)
