"""A v10 SOAP adapter: one provider's document/literal service over HTTP (SOAP 1.1).

``fetch`` posts the provider's question in a SOAP envelope, reads the (capped) answer with
a hardened lxml parser, finds the provider's response element in the body and hands its
payload to the provider's reader (the same readers the simulated providers use, keyed by
the provider's element names), so the domain record is the one the simulated base
service gives. A SOAP ``Fault`` is the provider's own failure (``BaseServiceReportedError``,
source BT), with the provider's code from its fault detail when it has one; an HTTP
error without a SOAP fault is ``BaseServiceReportedError`` ``HTTP_<status>`` (BT); anything
that is not the provider's response is ``MalformedAnswerError`` (SSBT).
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from adapters.providers.simulated.catalogue import read_payload
from adapters.providers.v10._http import Wire
from adapters.providers.v10._xml import body_of, envelope, is_fault, to_payload
from adapters.providers.v10.contracts import Asker, SoapContract
from application.ports import BaseServiceHealth, BaseServiceReportedError, MalformedAnswerError
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period

_MESSAGE_LIMIT: Final = 300
_CODE: Final = re.compile(r"[^A-Z0-9_]")


def http_failure(status: int) -> BaseServiceReportedError:
    return BaseServiceReportedError(
        f"HTTP_{status}", f"the base service answered with HTTP {status}"
    )


class SoapBaseService:
    """One provider's v10 SOAP base service (implements ``application.ports.BaseService``)."""

    def __init__(self, contract: SoapContract, wire: Wire, asker: Asker) -> None:
        self._contract = contract
        self._wire = wire
        self._asker = asker

    def __repr__(self) -> str:
        return f"SoapBaseService({self._contract.provider.value}, {self._wire.endpoint.url})"

    @property
    def provider(self) -> Provider:
        return self._contract.provider

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        contract = self._contract
        question = envelope(contract.question_element(subject, period, self._asker))
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{contract.action}"'}
        status, answer = await self._wire.exchange(
            "POST", self._wire.endpoint.url, question, headers
        )
        if status not in (200, 500):
            raise http_failure(status)
        try:
            element = body_of(contract.provider, answer)
        except MalformedAnswerError:
            if status == 500:
                raise http_failure(status) from None
            raise
        if is_fault(element):
            raise self._failure(element)
        if status != 200:
            raise http_failure(status)
        record = read_payload(contract.provider, contract.answer(element), subject)
        return ProviderAnswer(contract.provider, subject, contract.refine(record, period))

    def _failure(self, fault: etree._Element) -> BaseServiceReportedError:
        faultcode = (fault.findtext("faultcode") or "").strip()
        faultstring = (fault.findtext("faultstring") or "").strip()[:_MESSAGE_LIMIT]
        detail = fault.find("detail")
        if detail is not None and len(detail):
            payload = to_payload(detail, self._contract.shape)
            own = (
                self._contract.failure(payload, faultstring) if isinstance(payload, dict) else None
            )
            if own is not None:
                return own
        code = _CODE.sub("_", f"SOAP_{faultcode.rpartition(':')[2].upper()}")
        return BaseServiceReportedError(
            code, faultstring or "the base service answered with a SOAP fault"
        )

    async def check(self) -> BaseServiceHealth:
        """Fetch the service's WSDL: reaches the provider without any personal data."""
        return await self._wire.reach(f"{self._wire.endpoint.url}?wsdl")

    async def aclose(self) -> None:
        await self._wire.close()
