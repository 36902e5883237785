"""An adapter for Transportstyrelsen written from its contract alone, proven with the kit."""

from __future__ import annotations

import time

import httpx
import pytest
from lxml import etree

from adapters.providers.simulated.catalogue import simulated_record
from adapters.providers.testing import BaseServiceContract, Harness
from adapters.providers.v10.simulators import WIRE_FAULTS, ProviderSimulators
from application.ports import (
    BaseService,
    BaseServiceHealth,
    BaseServiceReportedError,
    BaseServiceUnreachableError,
    MalformedAnswerError,
)
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData, TransportstyrelsenRecord, Vehicle
from domain.providers import Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "{http://schema.transportstyrelsen.se/ssbtek/hamtauppgifterresponder/1}"
PERSON = "http://schema.transportstyrelsen.se/ssbtek/person/1"
FORDON = "{http://schema.transportstyrelsen.se/ssbtek/fordon/1}"
LIMIT = 1_000_000


class VehicleRegister:
    """Transportstyrelsen's ``HamtaUppgifter`` (SOAP 1.1): a ``BaseService``."""

    provider = Provider.TRANSPORTSTYRELSEN

    def __init__(self, url: str) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=5.0)  # one per provider: reused connections

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        question = (
            f'<s:Envelope xmlns:s="{SOAP}"><s:Body><HamtaUppgifter xmlns="{TNS[1:-1]}">'
            f'<identifikation><sekel xmlns="{PERSON}">{subject.digits[:2]}</sekel>'
            f'<personnummer xmlns="{PERSON}">{subject.digits[2:]}</personnummer>'
            "</identifikation></HamtaUppgifter></s:Body></s:Envelope>"
        )
        body, status = await self._post(question.encode())
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError:
            raise MalformedAnswerError("the vehicle register's answer is not XML") from None
        if status != 200 or root.find(f".//{{{SOAP}}}Fault") is not None:
            raise BaseServiceReportedError(f"HTTP_{status}", "the vehicle register failed")
        answer = root.find(f".//{TNS}HamtaUppgifterResponse")
        if answer is None:
            raise MalformedAnswerError("the vehicle register answered something else")
        if answer.findtext(f"{TNS}resultat") == "FEL":
            code = answer.findtext(f".//{TNS}felkod") or "FEL"
            raise BaseServiceReportedError(code, answer.findtext(f".//{TNS}feltext") or "")
        try:
            vehicles = tuple(
                Vehicle(
                    registration_number=fordon.findtext(f"{FORDON}regnr") or "",
                    make=fordon.findtext(f"{FORDON}fabrikat") or "",
                    model_year=int(fordon.findtext(f"{FORDON}fordonsar") or ""),
                    vehicle_type=fordon.findtext(f"{FORDON}fordonsslag") or "",
                    trade_name=fordon.findtext(f"{FORDON}handelsbeteckning") or "",
                )
                for fordon in answer.iter(f"{FORDON}fordon")
            )
        except ValueError:
            raise MalformedAnswerError("the vehicle register sent a bad model year") from None
        record = TransportstyrelsenRecord(protected_identity=False, vehicles=vehicles)
        return ProviderAnswer(self.provider, subject, record)

    async def _post(self, question: bytes) -> tuple[bytes, int]:
        body = bytearray()
        try:
            headers = {"Content-Type": "text/xml; charset=utf-8"}
            async with self._client.stream(
                "POST", self._url, content=question, headers=headers
            ) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > LIMIT:
                        raise MalformedAnswerError("the vehicle register answered too much")
        except httpx.TimeoutException:
            raise TimeoutError("the vehicle register did not answer in time") from None
        except httpx.TransportError:
            raise BaseServiceUnreachableError("the vehicle register could not be reached") from None
        return bytes(body), response.status_code

    async def check(self) -> BaseServiceHealth:
        started = time.monotonic()
        try:
            reachable = (await self._client.get(f"{self._url}?wsdl")).status_code == 200
        except httpx.HTTPError:
            reachable = False
        took = round((time.monotonic() - started) * 1000)
        return BaseServiceHealth(self.provider, reachable, took, "test call")


class VehicleRegisterHarness(Harness):
    """The adapter against the wire simulators' Transportstyrelsen (``/tns``)."""

    provider = Provider.TRANSPORTSTYRELSEN
    faults = frozenset(WIRE_FAULTS)

    def __init__(self) -> None:
        self.simulators = ProviderSimulators({"latency": "none"})
        self.url = ""

    async def start(self) -> None:
        self.url = await self.simulators.start()

    async def service(self, fault: str | None = None) -> BaseService:
        self.simulators.faults = {self.provider: fault} if fault else {}
        return VehicleRegister(f"{self.url}/tns")

    def expected(self, subject: PersonalIdentityNumber, period: Period) -> ProviderData:
        return simulated_record(self.provider, subject, period)

    def open_connections(self) -> int | None:
        return self.simulators.open_connections

    async def close(self) -> None:
        await self.simulators.stop()


class TestVehicleRegister(BaseServiceContract):
    @pytest.fixture
    def provider(self) -> Provider:
        return Provider.TRANSPORTSTYRELSEN

    def make_harness(self, provider: Provider) -> Harness:
        return VehicleRegisterHarness()


def test_the_readme_shows_this_example_as_it_is() -> None:
    from pathlib import Path

    here = Path(__file__)
    readme = (here.parents[2] / "README.md").read_text()
    example = here.read_text().split("\n\n\ndef test_the_readme_shows_this_example_as_it_is")[0]
    assert f"```python\n{example}\n```" in readme
