"""The v10 SOAP facade served in the test's event loop, and a zeep client for it.

zeep is synchronous (``requests``): its calls run in a thread so the server, in this
loop, can answer them. Requests are built as zeep builds them from the published WSDL;
raw bytes go through ``httpx`` only where zeep cannot say something (hostile XML).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import zeep
from lxml import etree
from zeep.plugins import HistoryPlugin

from adapters.soap.contract import EXT, SSBT, extension_schema, main_schema
from adapters.soap.server import SoapServer, start_soap_server
from application.admission import Admission
from application.queries import Queries
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.aggregate import Query
from domain.query.values import Period
from tests.fakes import FakeBaseService
from tests.integration.test_personal_data_never_rests import canary_record

BLOCKS = ("AF", "CSN", "FK", "SKV", "SO", "TNS", "MIV")
SYFTE = "Beslut om eller kontroll av Ekonomisk försörjningsstöd"
LAGTEXT = (
    "11 kap. 11 a § socialtjänstlagen (2001:453), 5 § förordning (2008:975) om "
    "uppgiftsskyldighet i vissa fall enligt socialtjänstlagen."
)


@attrs.define
class V10Client:
    server: SoapServer
    client: Any
    history: HistoryPlugin

    async def hamta(self, headers: list[etree._Element] | None = None, **general: Any) -> Any:
        specific = general.pop("specific", None) or {tag: {"inkludera": True} for tag in BLOCKS}
        call = self.client.service.hamtaBastjanstInformation
        return await asyncio.to_thread(
            call,
            generellaFrageparametrar=general_parameters(**general),
            specifikaFrageparametrar=specific,
            _soapheaders=headers,
        )

    async def testa(self) -> Any:
        return await asyncio.to_thread(self.client.service.testaBastjanstInformation)

    def received(self) -> etree._Element:
        """The last answer's envelope as it came over the wire."""
        last = self.history.last_received
        assert last is not None
        envelope: etree._Element = last["envelope"]
        return envelope

    async def post(self, body: bytes) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                self.server.url, content=body, headers={"Content-Type": "text/xml"}
            )


def _records_of(provider: Provider) -> Callable[[PersonalIdentityNumber, Period], Any]:
    def make(subject: PersonalIdentityNumber, period: Period) -> Any:
        return canary_record(provider)

    return make


def base_services(**modes: str) -> dict[Provider, FakeBaseService]:
    """Every provider answers with a realistic record (the canary test's), unless
    ``modes`` says otherwise (``skatteverket="fail"``)."""
    return {
        p: FakeBaseService(p, mode=modes.get(p.name.lower(), "answer"), record=_records_of(p))
        for p in Provider
    }


def general_parameters(**overrides: Any) -> dict[str, Any]:
    """What a real municipality's client sends (the v10 integration test's request)."""
    values: dict[str, Any] = {
        "korrelationsid": "7f9d0c8e-5a8b-4c1e-9a57-1b2c3d4e5f60",
        "fraganSkallInkluderasISvaret": False,
        "ingivare": {
            "organisationsnummer": "162120000142",
            "namn": "Demo kommun",
            "handlaggare": "HL000001",
        },
        "personidentitet": "191212121212",
        "arendeidentitet": "EKB-2026-0001",
        "tidsperiod": {"fromDatum": dt.date(2026, 1, 1), "tomDatum": dt.date(2026, 6, 30)},
        "syfte": SYFTE,
        "lagtext": LAGTEXT,
    }
    values.update(overrides)
    return values


@asynccontextmanager
async def serving(queries: Queries, admission: Admission | None = None) -> AsyncIterator[V10Client]:
    server = await start_soap_server(queries, address="127.0.0.1:0", admission=admission)
    history = HistoryPlugin()  # type: ignore[no-untyped-call]
    client = await asyncio.to_thread(zeep.Client, f"{server.url}?wsdl", plugins=[history])
    try:
        yield V10Client(server, client, history)
    finally:
        await server.stop()


def fault_detail(fault: Any) -> tuple[str, list[str]]:
    """felkod and the felmeddelande of a ``zeep.exceptions.Fault``'s v10 fault element."""
    (element,) = fault.detail
    assert etree.QName(element).localname.endswith("BastjanstInformationFault")
    code = element.findtext(f"{{{SSBT}}}felkod")
    messages = [node.text or "" for node in element.iter(f"{{{SSBT}}}felmeddelande")]
    return str(code), messages


def assert_valid(envelope: etree._Element) -> etree._Element:
    """The body's element and every extension header validate against the project's schemas."""
    ns = "http://schemas.xmlsoap.org/soap/envelope/"
    body = envelope.find(f"{{{ns}}}Body")
    assert body is not None
    (payload,) = list(body)
    main_schema().assertValid(payload)
    for header in envelope.findall(f"{{{ns}}}Header/*"):
        assert etree.QName(header).namespace == EXT
        extension_schema().assertValid(header)
    return payload


def events_of(queries: Queries, kind: type[Any] = Query.Received) -> list[Any]:
    notifications = queries.recorder.select_notifications(1, 10_000)
    events = [queries.mapper.to_domain_event(n) for n in notifications]
    return [e for e in events if isinstance(e, kind)]
