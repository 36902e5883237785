"""The v10 Lefi adapter: Försäkringskassan's ``formansinformation`` (JSON over HTTP), which
also carries Pensionsmyndigheten's payments.

    POST {url}/lefi-extern-formansinformation/v9/aktorer/{aktorsId}/formansinformation/fraga
         {"personnummer": ..., "period": {"from": ..., "tom": ...}, "utbetalningar": [...],
          "ovrigInformation": [...]}
      200  ``LefiExternFormansinformationSvar``: ``utlamnare`` with each one's ``tillstand``,
           ``formansinformation``, PM's ``utbetalningar``; read by the provider's reader
      400/403/500  ``LefiFelsvar`` {"meddelande", "timestamp"}: the base service's failure (BT)
    GET  {url}/lefi-extern-formansinformation/v9/aktorer/{aktorsId}/tillgangligaInformationstyper
      200  when the base service is reachable (no personal data): ``check``

Försäkringskassan asks for FK's payments (``FK:`` groups), Pensionsmyndigheten for PM's
(``PM:`` groups); each provider has its own client. A ``tillstand`` other than ``OK`` for
the asked provider is that provider's failure (BT), as the reader says.
"""

from __future__ import annotations

import json
from typing import Final

from adapters.providers.simulated.catalogue import read_payload
from adapters.providers.v10._http import Wire
from adapters.providers.v10.soap import http_failure
from application.ports import BaseServiceHealth, BaseServiceReportedError, MalformedAnswerError
from domain.identity import PersonalIdentityNumber
from domain.providers import PROFILES, Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period

API: Final = "/lefi-extern-formansinformation/v9/aktorer"
GROUPS: Final = {
    Provider.FORSAKRINGSKASSAN: {"utbetalningar": ["FK:ALLA"], "ovrigInformation": ["FK:GEPI"]},
    Provider.PENSIONSMYNDIGHETEN: {"utbetalningar": ["PM:AP"], "ovrigInformation": ["PM:GEPI"]},
}
_MESSAGE_LIMIT: Final = 300


class LefiBaseService:
    """Försäkringskassan's or Pensionsmyndigheten's part of Lefi (implements ``BaseService``)."""

    def __init__(self, provider: Provider, wire: Wire, actor: str) -> None:
        if provider not in GROUPS:
            raise ValueError(f"{provider.name} does not answer through Lefi")
        self._provider = provider
        self._wire = wire
        self._actor_url = f"{wire.endpoint.url.rstrip('/')}{API}/{actor}"

    def __repr__(self) -> str:
        return f"LefiBaseService({self._provider.value}, {self._wire.endpoint.url})"

    @property
    def provider(self) -> Provider:
        return self._provider

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        question = {
            "personnummer": subject.digits,
            "period": {"from": period.start.isoformat(), "tom": period.end.isoformat()},
            **GROUPS[self._provider],
        }
        status, body = await self._wire.exchange(
            "POST",
            f"{self._actor_url}/formansinformation/fraga",
            json.dumps(question).encode(),
            {"Content-Type": "application/json", "Accept": "application/json"},
        )
        if status != 200:
            raise self._failure(status, body)
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise MalformedAnswerError(
                f"{PROFILES[self._provider].name} answered with no JSON object"
            )
        return ProviderAnswer(
            self._provider, subject, read_payload(self._provider, answer, subject)
        )

    @staticmethod
    def _failure(status: int, body: bytes) -> BaseServiceReportedError:
        try:
            felsvar = json.loads(body)
        except ValueError:
            felsvar = None
        if isinstance(felsvar, dict) and isinstance(felsvar.get("meddelande"), str):
            return BaseServiceReportedError(
                f"HTTP_{status}", felsvar["meddelande"][:_MESSAGE_LIMIT]
            )
        return http_failure(status)

    async def check(self) -> BaseServiceHealth:
        return await self._wire.reach(f"{self._actor_url}/tillgangligaInformationstyper")

    async def aclose(self) -> None:
        await self._wire.close()
