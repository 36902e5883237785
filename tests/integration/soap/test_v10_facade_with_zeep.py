"""The SSBTEK v10 SOAP facade driven by zeep from the WSDL it publishes, over a real socket.

The saga behind it is the same ``Queries`` the gRPC API uses, with the Parties
application as its access policy, on SQLite: answers, partial answers, every refusal
and every fault, each answer validated against the project's rendering of the schema.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import zeep.exceptions
from lxml import etree
from zeep.plugins import HistoryPlugin

from adapters.loops import OnLoop, ServerLoop
from adapters.soap.contract import EXT, MAX_REQUEST_BYTES, SSBT
from adapters.soap.server import start_soap_server
from application.admission import Admission, AdmissionSettings
from application.demo import DEMO_CASEWORKER, seed_demo
from application.queries import Queries
from domain.providers import STOCKHOLM, Provider
from domain.query.aggregate import Query
from domain.query.values import EntryPoint
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.integration.party_world import GOTHENBURG, World, open_world
from tests.integration.soap.v10 import (
    BLOCKS,
    LAGTEXT,
    SYFTE,
    V10Client,
    assert_valid,
    base_services,
    events_of,
    fault_detail,
    serving,
)

WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)  # every base service open
PROTECTED = "191212121212"  # the fakes' AF record flags every subject it answers about


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=Store.SQLITE,
        data_dir=tmp_path / "var",
        pseudonym_key_hex=TEST_KEY,
        budget_fraction=0.05,  # 0.35 s for one subject: a hanging base service times out
    )


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    world = open_world(settings)
    world.clock.advance(WEDNESDAY - world.clock.now())
    seed_demo(world.parties, world.agreements, world.clock.now())
    yield world
    world.close()


def saga(settings: Settings, world: World, **modes: str) -> Queries:
    return build_queries(
        settings,
        base_services=base_services(**modes),
        clock=world.clock,
        access_policy=world.parties,
    )


@pytest.fixture
async def v10(settings: Settings, world: World) -> AsyncIterator[tuple[V10Client, Queries]]:
    queries = saga(settings, world, skatteverket="fail", migrationsverket="hang")
    async with serving(queries) as client:
        yield client, queries
    queries.close()


async def test_the_wsdl_is_published_with_the_service_s_own_address(
    v10: tuple[V10Client, Queries],
) -> None:
    client, _ = v10
    (service,) = client.client.wsdl.services.values()
    (port,) = service.ports.values()
    assert port.binding_options["address"] == client.server.url
    assert set(port.binding._operations) == {
        "hamtaBastjanstInformation",
        "testaBastjanstInformation",
    }


async def test_a_v10_query_is_answered_block_by_block_with_a_partial_answer(
    v10: tuple[V10Client, Queries],
) -> None:
    client, queries = v10
    answer = await client.hamta()

    assert_valid(client.received())
    blocks = answer.svarsdata
    assert blocks.AF.data.Svar.IdentitetsbeteckningFysiskPerson == PROTECTED
    assert blocks.AF.data.Svar.Sekretessmarkering is True
    assert blocks.AF.data.Fraga.LagParagraf == LAGTEXT  # the provider's own shape repeats it
    assert b"CSNSvar" in blocks.CSN.data.svar
    lefi = json.loads(blocks.FK.data.lefiJsonSvar)
    assert [entry["utlamnare"]["kod"] for entry in lefi["utlamnare"]] == ["FK", "PM"]
    assert blocks.SO.data.IdentificationNumber == PROTECTED
    assert blocks.TNS.data.resultat == "OK"
    assert len(blocks.TNS.data.fordonsinnehav.fordon) == 1
    # Partial: Skatteverket failed (its own error, BT), Migrationsverket never answered (SSBT).
    assert blocks.SKV.data is None
    assert (blocks.SKV.error.kalla, blocks.SKV.error.felkod) == ("BT", "1001")
    assert blocks.MIV.error.kalla == "SSBT"
    assert blocks.MIV.error.felkod == "TIMEOUT"
    assert answer.korrelationsid == "7f9d0c8e-5a8b-4c1e-9a57-1b2c3d4e5f60"
    assert answer.fraga is None

    (received,) = events_of(queries)
    assert received.entry_point is EntryPoint.SOAP_V10
    assert received.asking_organisation == "2120000142"
    assert received.subject_count == 1
    assert len(received.selections) == 8  # v10's FK block covers FK and PM (Lefi)


async def test_only_the_included_blocks_are_asked_and_answered_each_with_its_own_period(
    v10: tuple[V10Client, Queries],
) -> None:
    client, queries = v10
    own = {"fromDatum": dt.date(2026, 3, 1), "tomDatum": dt.date(2026, 3, 31)}
    specific: dict[str, dict[str, Any]] = {
        tag: {"inkludera": tag in ("AF", "TNS")} for tag in BLOCKS
    }
    specific["AF"]["tidsperiod"] = own
    answer = await client.hamta(specific=specific)

    assert_valid(client.received())
    present = [tag for tag in BLOCKS if getattr(answer.svarsdata, tag) is not None]
    assert present == ["AF", "TNS"]
    assert answer.svarsdata.AF.data.Fraga.From == own["fromDatum"]
    (received,) = events_of(queries)
    periods = {s.provider: (s.period.start, s.period.end) for s in received.selections}
    assert periods == {
        Provider.ARBETSFORMEDLINGEN: (own["fromDatum"], own["tomDatum"]),
        Provider.TRANSPORTSTYRELSEN: (dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
    }


async def test_the_query_is_echoed_on_request_with_the_correlation_id_and_time(
    v10: tuple[V10Client, Queries],
) -> None:
    client, _ = v10
    asked_at = dt.datetime(2026, 11, 25, 9, 59, 30, tzinfo=dt.UTC)
    answer = await client.hamta(fraganSkallInkluderasISvaret=True, frageTidpunkt=asked_at)

    assert_valid(client.received())
    assert answer.fraga.generellaFrageparametrar.arendeidentitet == "EKB-2026-0001"
    assert answer.fraga.generellaFrageparametrar.syfte == SYFTE
    assert answer.fraga.specifikaFrageparametrar.FK.inkludera is True
    assert answer.frageTidpunkt == asked_at
    assert answer.korrelationsid == "7f9d0c8e-5a8b-4c1e-9a57-1b2c3d4e5f60"


async def test_an_extension_header_adds_subjects_that_come_back_in_a_header(
    v10: tuple[V10Client, Queries],
) -> None:
    client, queries = v10
    more = etree.Element(f"{{{EXT}}}ytterligarePersoner", nsmap={"ext": EXT})
    for subject in ("201212121212", "197001011233"):
        etree.SubElement(more, f"{{{EXT}}}personidentitet").text = subject
    answer = await client.hamta(headers=[more])

    payload = assert_valid(client.received())
    assert etree.QName(payload).localname == "hamtaBastjanstInformationResponse"
    assert answer.svarsdata.AF.data.Svar.IdentitetsbeteckningFysiskPerson == PROTECTED
    header = client.received().find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    assert header is not None
    people = header.findall(f"{{{EXT}}}ytterligareSvar/{{{EXT}}}personSvar")
    assert [p.findtext(f"{{{EXT}}}personidentitet") for p in people] == [
        "201212121212",
        "197001011233",
    ]
    assert people[0].find(f"{{{EXT}}}svarsdata/{{{SSBT}}}AF/{{{SSBT}}}data") is not None
    notices = header.findall(f"{{{EXT}}}skyddadIdentitet/{{{EXT}}}notis")
    assert len(notices) == 3  # the fakes' AF record flags every subject
    assert notices[0].findtext(f"{{{EXT}}}flaggadAv") == "AF"
    (received,) = events_of(queries)
    assert received.subject_count == 3


async def test_the_protected_identity_notice_rides_in_a_header_a_v10_client_ignores(
    v10: tuple[V10Client, Queries],
) -> None:
    client, _ = v10
    answer = await client.hamta()
    assert answer.svarsdata.AF.data.Svar.Sekretessmarkering is True
    header = client.received().find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    assert header is not None
    (notice,) = header.findall(f"{{{EXT}}}skyddadIdentitet/{{{EXT}}}notis")
    assert notice.findtext(f"{{{EXT}}}personidentitet") == PROTECTED
    assert "skyddad identitet" in (notice.findtext(f"{{{EXT}}}text") or "")


async def test_the_test_operation_reaches_every_base_service_without_personal_data(
    settings: Settings, world: World
) -> None:
    queries = saga(settings, world, csn="unreachable")
    async with serving(queries) as client:
        answer = await client.testa()
        assert_valid(client.received())
    assert all(getattr(answer, tag).anropad for tag in BLOCKS)
    assert answer.CSN.error.felkod == "UNREACHABLE"
    assert answer.AF.error is None
    assert events_of(queries) == []  # no query: nothing personal was asked
    queries.close()


async def refused(client: V10Client, **general: object) -> tuple[str, list[str], str]:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        await client.hamta(**general)  # type: ignore[arg-type]
    code, messages = fault_detail(raised.value)
    return code, messages, str(raised.value.code)


@pytest.mark.parametrize(
    ("general", "field"),
    [
        ({"personidentitet": "191212121213"}, "generellaFrageparametrar.personidentitet"),
        ({"syfte": "Allmän kontroll"}, "generellaFrageparametrar.syfte"),
        ({"lagtext": "Offentlighetsprincipen"}, "generellaFrageparametrar.lagtext"),
        (
            {"tidsperiod": {"fromDatum": dt.date(2026, 6, 1), "tomDatum": dt.date(2026, 1, 1)}},
            "generellaFrageparametrar.tidsperiod",
        ),
        ({"arendeidentitet": "E" * 65}, "generellaFrageparametrar.arendeidentitet"),
    ],
)
async def test_a_query_breaking_a_rule_is_refused_naming_the_field_and_recorded(
    v10: tuple[V10Client, Queries], general: dict[str, object], field: str
) -> None:
    client, queries = v10
    code, messages, faultcode = await refused(client, **general)
    assert code == "INVALID_ARGUMENT"
    assert faultcode.endswith("Client")
    assert any(message.startswith(field + " ") for message in messages), messages
    for value in general.values():
        if isinstance(value, str):
            assert value not in " ".join(messages)
    (rejected,) = events_of(queries, Query.Rejected)
    assert rejected.entry_point is EntryPoint.SOAP_V10
    assert rejected.reason.value == "INVALID_ARGUMENT"


async def test_a_request_the_schema_refuses_gets_a_fault_naming_the_element_not_the_value(
    v10: tuple[V10Client, Queries],
) -> None:
    client, queries = v10
    code, messages, _ = await refused(client, personidentitet="1912-12-12-1212")
    assert code == "SCHEMA_VIOLATION"
    assert messages == [
        "generellaFrageparametrar.personidentitet does not match the pattern of its v10 type"
    ]
    # recorded as the saga records an invalid gRPC request: the element, never its value
    (rejected,) = events_of(queries, Query.Rejected)
    assert rejected.reason.value == "INVALID_ARGUMENT"
    assert rejected.entry_point is EntryPoint.SOAP_V10
    assert rejected.fields == ["generellaFrageparametrar.personidentitet"]
    assert (rejected.asking_organisation, rejected.caller) == ("2120000142", "")
    assert "1912-12-12-1212" not in repr(vars(rejected))


async def test_a_schema_refused_request_naming_no_organisation_is_filed_as_over_grpc(
    v10: tuple[V10Client, Queries],
) -> None:
    """Over gRPC an invalid request naming no organisation number is recorded against the
    caller the certificate proved, or without TLS against none (``""``); so over SOAP."""
    client, queries = v10
    ingivare = {"organisationsnummer": "16212000014", "namn": "Kommun", "handlaggare": "HL1"}
    code, _, _ = await refused(client, ingivare=ingivare)
    assert code == "SCHEMA_VIOLATION"
    (rejected,) = events_of(queries, Query.Rejected)
    assert rejected.fields == ["generellaFrageparametrar.ingivare.organisationsnummer"]
    assert (rejected.asking_organisation, rejected.claimed_organisation) == ("", "")


async def test_a_query_without_any_base_service_is_refused(
    v10: tuple[V10Client, Queries],
) -> None:
    client, queries = v10
    with pytest.raises(zeep.exceptions.Fault) as raised:
        await client.hamta(specific={tag: {"inkludera": False} for tag in BLOCKS})
    assert fault_detail(raised.value)[0] == "NO_BASE_SERVICE"
    (rejected,) = events_of(queries, Query.Rejected)
    assert (rejected.reason.value, rejected.fields) == (
        "INVALID_ARGUMENT",
        ["specifikaFrageparametrar"],
    )


@pytest.mark.parametrize(
    ("arrange", "general", "reason"),
    [
        (lambda w: None, {"handlaggare": "system"}, "CASEWORKER_UNKNOWN"),
        (
            lambda w: w.parties.register_caseworker("212000-0142", "system"),
            {"handlaggare": "system"},
            "CASEWORKER_WITHOUT_ASSURANCE",
        ),
        (
            lambda w: w.parties.revoke_caseworker("212000-0142", DEMO_CASEWORKER),
            {},
            "CASEWORKER_REVOKED",
        ),
        (
            lambda w: None,
            {"organisationsnummer": "16" + GOTHENBURG.replace("-", "")},
            "ORGANISATION_NOT_CONNECTED",
        ),
    ],
)
async def test_the_access_policy_refuses_as_over_grpc_and_records_the_refusal(
    v10: tuple[V10Client, Queries],
    world: World,
    arrange: object,
    general: dict[str, str],
    reason: str,
) -> None:
    client, queries = v10
    arrange(world)  # type: ignore[operator]
    ingivare = {"organisationsnummer": "162120000142", "namn": "Kommun", "handlaggare": "HL000001"}
    ingivare.update(general)
    code, messages, faultcode = await refused(client, ingivare=ingivare)
    assert code == reason
    assert faultcode.endswith("Client")
    assert messages[0].startswith("generellaFrageparametrar.ingivare.")
    assert "system" not in messages[0]
    (rejected,) = events_of(queries, Query.Rejected)
    assert (rejected.reason.value, rejected.entry_point) == (reason, EntryPoint.SOAP_V10)


async def test_an_automated_caseworker_registered_by_the_municipality_may_ask(
    v10: tuple[V10Client, Queries], world: World
) -> None:
    """004 § 11.1 allows automation: the system account is a caseworker like any other."""
    client, _ = v10
    world.parties.register_caseworker("212000-0142", "system")
    world.parties.sign_assurance("212000-0142", "system", world.clock.now().date())
    ingivare = {"organisationsnummer": "162120000142", "namn": "Kommun", "handlaggare": "system"}
    answer = await client.hamta(ingivare=ingivare)
    assert answer.svarsdata.AF.data is not None


async def test_overload_is_refused_at_once_as_a_server_fault(
    settings: Settings, world: World
) -> None:
    queries = saga(attrs.evolve(settings, max_in_flight=0), world)
    async with serving(queries) as client:
        code, _, faultcode = await refused(client)
        raw = await client.post(etree.tostring(client.history.last_sent["envelope"]))
    queries.close()
    assert code == "TOO_MANY_QUERIES_IN_FLIGHT"
    assert faultcode.endswith("Server")
    assert raw.status_code == 500
    assert raw.headers["Retry-After"] == "1"


async def test_the_soap_facade_shares_the_limit_of_queries_in_progress_with_grpc(
    settings: Settings, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """One admission control for both entry points (ADR 26): with the service's limit held by
    another call, a SOAP query is refused at once, a server fault with the measured wait."""
    caplog.set_level(logging.INFO, logger="ssbtek.access")
    admission = Admission(AdmissionSettings(ceiling=1, adaptive=False), monotonic=time.monotonic)
    queries = saga(settings, world)
    held = admission.admit("2120000142", "GRPC")  # a gRPC query in progress
    async with serving(queries, admission) as client:
        code, _, faultcode = await refused(client)
        raw = await client.post(etree.tostring(client.history.last_sent["envelope"]))
        held.release()
        answer = await client.hamta()  # room again: answered through the same control
    queries.close()
    assert code == "TOO_MANY_QUERIES_IN_FLIGHT"
    assert faultcode.endswith("Server")
    assert raw.status_code == 500
    assert 1 <= int(raw.headers["Retry-After"]) <= 10
    assert answer.svarsdata is not None
    assert admission.in_progress == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "ssbtek.access"]
    assert sum("TOO_MANY_QUERIES_IN_FLIGHT" in line for line in lines) == 2


async def test_on_the_servers_loop_a_soap_refusal_needs_nothing_of_the_application_loop(
    settings: Settings, world: World
) -> None:
    """As ``ssbtek serve`` runs it (ADR 26, amended): the endpoint on the servers' own loop,
    the queries on the application's. With the one slot held and the application's loop
    blocked, a query is refused while the loop is still blocked; once free, one is answered
    through the crossing."""
    admission = Admission(AdmissionSettings(ceiling=1, adaptive=False), monotonic=time.monotonic)
    queries = saga(settings, world)
    servers, application = ServerLoop("servers"), ServerLoop("application")
    try:
        server = await servers.run(
            start_soap_server(
                queries,
                address="127.0.0.1:0",
                admission=admission,
                application=OnLoop(application.loop),
            )
        )
        zeep_client = await asyncio.to_thread(zeep.Client, f"{server.url}?wsdl")
        client = V10Client(server, zeep_client, HistoryPlugin())  # type: ignore[no-untyped-call]
        held = admission.admit("2120000142", "GRPC")  # a query in progress
        unblock = threading.Event()
        application.loop.call_soon_threadsafe(unblock.wait, 30)
        code, _, _ = await refused(client)
        still_blocked = not unblock.is_set()
        unblock.set()
        held.release()
        answer = await client.hamta()
        await servers.run(server.stop())
    finally:
        servers.close()
        application.close()
        queries.close()
    assert code == "TOO_MANY_QUERIES_IN_FLIGHT"
    assert still_blocked, "the refusal waited for the application's loop"
    assert answer.svarsdata is not None
    assert admission.in_progress == 0


async def test_an_organisation_over_its_rate_is_refused_as_a_server_fault(
    settings: Settings, world: World
) -> None:
    queries = saga(attrs.evolve(settings, rate_limit="1/minute"), world)
    async with serving(queries) as client:
        assert (await client.hamta()).svarsdata.AF.data is not None
        code, _, faultcode = await refused(client)
    queries.close()
    assert code == "ORGANISATION_RATE_LIMIT"
    assert faultcode.endswith("Server")


HOSTILE = {
    "malformed XML": (b"<soap:Envelope xmlns:soap='x'><unclosed>", "MALFORMED_XML"),
    "SOAP 1.2": (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
        "NOT_A_SOAP_1_1_ENVELOPE",
    ),
    "wrong namespace": (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<h:hamtaBastjanstInformation xmlns:h="http://schema.forsakringskassan.se/integration/ssbt/9"/>'
        b"</s:Body></s:Envelope>",
        "UNKNOWN_OPERATION",
    ),
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&c;</s:Body>'
        b"</s:Envelope>",
        "DTD_NOT_ALLOWED",
    ),
    "oversized body": (b"<a>" + b" " * (MAX_REQUEST_BYTES + 1) + b"</a>", "REQUEST_TOO_LARGE"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_requests_get_a_fault_and_lose_nothing(
    v10: tuple[V10Client, Queries], name: str
) -> None:
    client, queries = v10
    body, code = HOSTILE[name]
    response = await client.post(body)
    assert response.status_code == 500
    fault = etree.fromstring(response.content)
    assert fault.findtext(f".//{{{SSBT}}}felkod") == code
    assert b"aaaaaaaaaa" not in response.content
    assert (await client.hamta()).svarsdata.AF.data is not None  # the service still answers
    assert len(events_of(queries)) == 1
    assert events_of(queries, Query.Rejected) == []  # it held no query: like undecodable gRPC


async def test_an_external_entity_is_never_read(
    v10: tuple[V10Client, Queries], tmp_path: Path
) -> None:
    client, _ = v10
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARYXXESECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        '<h:hamtaBastjanstInformation xmlns:h="http://schema.forsakringskassan.se/integration/ssbt/10">'
        "&x;</h:hamtaBastjanstInformation></s:Body></s:Envelope>"
    ).encode()
    response = await client.post(body)
    assert response.status_code == 500
    assert b"CANARYXXESECRET" not in response.content
    assert etree.fromstring(response.content).findtext(f".//{{{SSBT}}}felkod") == (
        "DTD_NOT_ALLOWED"
    )


async def test_while_the_store_is_down_the_query_gets_the_audit_fault_and_a_retry_its_answer(
    v10: tuple[V10Client, Queries], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit trail cannot be written: no answer leaves without its trail (ADR 23). The
    caller gets ``AUDIT_UNAVAILABLE`` as a server fault with ``Retry-After``; once the store
    is back, the same request (same korrelationsid) is answered, as over gRPC."""
    client, queries = v10
    await client.hamta()  # the store's tables exist
    down = True
    insert_events, max_notification_id = (
        queries.recorder.insert_events,
        queries.recorder.max_notification_id,
    )

    def insert_while_up(*args: Any, **kwargs: Any) -> Any:
        if down:
            raise OSError("the store is down")
        return insert_events(*args, **kwargs)

    def probe_while_up() -> Any:
        if down:
            raise OSError("the store is down")
        return max_notification_id()

    monkeypatch.setattr(queries.recorder, "insert_events", insert_while_up)
    monkeypatch.setattr(queries.recorder, "max_notification_id", probe_while_up)
    for _ in range(2):  # the failed write opens the gate; then it refuses before any work
        code, messages, faultcode = await refused(client)
        assert code == "AUDIT_UNAVAILABLE"
        assert faultcode.endswith("Server")
        received = client.history.last_received
        assert received is not None
        assert received["http_headers"]["Retry-After"] == "1"
        assert queries.store_gate.is_open
    assert all("191212121212" not in message for message in messages)

    down = False
    for _ in range(200):  # the gate's probe finds the store back
        if not queries.store_gate.is_open:
            break
        await asyncio.sleep(0.05)
    assert not queries.store_gate.is_open
    answered = await client.hamta()
    assert answered.korrelationsid == "7f9d0c8e-5a8b-4c1e-9a57-1b2c3d4e5f60"
    assert answered.svarsdata.AF.data is not None
    assert len(events_of(queries, Query.Delivered)) == 2  # the warm-up and the retry only
