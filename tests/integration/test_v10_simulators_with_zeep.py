"""The wire simulators' SOAP, checked with a client somebody else wrote: zeep reads each
provider's WSDL from the simulators, sends the question its own way and reads the answer,
and the provider's own failures arrive as SOAP faults with the provider's detail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import zeep
import zeep.exceptions

from adapters.providers.v10.contracts import CONTRACTS
from adapters.providers.v10.simulators import ProviderSimulators
from domain.providers import Provider

PNR = "191212121212"
QUESTIONS: dict[Provider, tuple[str, dict[str, Any]]] = {
    Provider.ARBETSFORMEDLINGEN: (
        "ErsattningsstodBinding",
        {
            "Fraga": {
                "OrganisationsnummerForIngivare": "2120000142",
                "NamnPaIngivare": "Demo kommun",
                "KontonamnForHandlaggare": "SSBTEK",
                "Referensnummer": "1",
                "From": "2025-01-01",
                "Tom": "2026-10-31",
                "SyfteMedFraga": "Ekonomiskt bistånd",
                "LagParagraf": "SoL 11 kap. 11 a §",
                "IdentitetsbeteckningFysiskPerson": PNR,
            }
        },
    ),
    Provider.CSN: (
        "KommunfragaBinding",
        {
            "Organisationsnummer": "2120000142",
            "Handlaggare": "SSBTEK",
            "Personnummer": PNR,
            "FromDatum": "2025-01-01",
            "TomDatum": "2026-10-31",
        },
    ),
    Provider.MIGRATIONSVERKET: (
        "SSBTEKWebServiceBinding",
        {"query": {"personnummer": PNR, "ingivare": {"handlaggare": "SSBTEK"}}},
    ),
    Provider.UNEMPLOYMENT_FUNDS: (
        "UnemploymentBenefitPaymentServiceBinding",
        {
            "OrganisationsnummerIngivare": "2120000142",
            "NamnIngivare": "Demo kommun",
            "KontonamnHandlaggare": "SSBTEK",
            "Referensnummer": "1",
            "From": "2025-01-01",
            "Tom": "2026-10-31",
            "Syfte": "Ekonomiskt bistånd",
            "Paragraf": "SoL 11 kap. 11 a §",
            "IdentificationNumber": PNR,
        },
    ),
    Provider.TRANSPORTSTYRELSEN: (
        "HamtaUppgifterResponderServiceBinding",
        {"identifikation": {"sekel": "19", "personnummer": PNR[2:]}},
    ),
}
SKV_QUESTION = (
    '<FragaBeskattningsuppgifterEnligtSFS2008-975 xmlns="http://xmls.skatteverket.se/se/'
    'skatteverket/zg/instans/standardiseradInformation/1.0"><IdentitetsbeteckningFysiskPerson>'
    f"{PNR}</IdentitetsbeteckningFysiskPerson><FromDatum>2025-01-01</FromDatum>"
    "<TomDatum>2026-10-31</TomDatum></FragaBeskattningsuppgifterEnligtSFS2008-975>"
)


@pytest.fixture
async def simulators() -> AsyncIterator[tuple[ProviderSimulators, str]]:
    running = ProviderSimulators({"latency": "none"})
    url = await running.start()
    yield running, url
    await running.stop()


def _call(url: str, provider: Provider, binding: str, arguments: dict[str, Any]) -> Any:
    contract = CONTRACTS[provider]
    client = zeep.Client(f"{url}{contract.path}?wsdl")  # type: ignore[no-untyped-call]
    service = client.create_service(  # type: ignore[no-untyped-call]
        f"{{{contract.namespace}}}{binding}", f"{url}{contract.path}"
    )
    operation = next(iter(client.wsdl.bindings[f"{{{contract.namespace}}}{binding}"]._operations))
    return getattr(service, operation)(**arguments)


@pytest.mark.parametrize("provider", list(QUESTIONS), ids=lambda provider: provider.name)
async def test_zeep_asks_each_soap_provider_and_reads_its_answer(
    provider: Provider, simulators: tuple[ProviderSimulators, str]
) -> None:
    running, url = simulators
    binding, arguments = QUESTIONS[provider]
    answer = await asyncio.to_thread(_call, url, provider, binding, arguments)
    assert running.questions == 1
    if provider is Provider.CSN:
        assert b"CSNSvar" in answer  # base64Binary, decoded by zeep
        assert PNR[2:].encode() in answer
    elif provider is Provider.ARBETSFORMEDLINGEN:
        assert answer.Svar is not None
    elif provider is Provider.MIGRATIONSVERKET:
        assert answer is not None
    elif provider is Provider.TRANSPORTSTYRELSEN:
        assert answer.resultat == "OK"
    else:
        assert answer is not None


async def test_zeep_reads_skatteverket_s_answer_document_and_its_fault(
    simulators: tuple[ProviderSimulators, str],
) -> None:
    running, url = simulators
    binding = "ZgBsBeskattningWSServiceBinding"
    question = {"forfragan": SKV_QUESTION}
    answer = await asyncio.to_thread(_call, url, Provider.SKATTEVERKET, binding, question)
    assert "SvarBeskattningsuppgifterEnligtSFS2008-975" in answer
    assert PNR in answer
    running.faults[Provider.SKATTEVERKET] = "error"
    with pytest.raises(zeep.exceptions.Fault) as fault:
        await asyncio.to_thread(_call, url, Provider.SKATTEVERKET, binding, question)
    assert fault.value.code is not None
    assert "Server" in fault.value.code
    assert fault.value.detail is not None
    assert fault.value.detail.findtext(".//MeddelandeKod", "").startswith("9071")


async def test_zeep_sees_migrationsverket_s_own_fault(
    simulators: tuple[ProviderSimulators, str],
) -> None:
    running, url = simulators
    running.faults[Provider.MIGRATIONSVERKET] = "error"
    binding, arguments = QUESTIONS[Provider.MIGRATIONSVERKET]
    with pytest.raises(zeep.exceptions.Fault) as fault:
        await asyncio.to_thread(_call, url, Provider.MIGRATIONSVERKET, binding, arguments)
    assert fault.value.detail is not None
    assert fault.value.detail.findtext(".//faultCode", "").startswith("SSBTEK-")
