"""The wire simulators and the v10 adapters together, for the tests (real sockets, 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.providers.simulated.catalogue import simulated_record
from adapters.providers.testing import Harness
from adapters.providers.v10 import build_v10_base_service
from adapters.providers.v10.simulators import WIRE_FAULTS, ProviderSimulators
from application.ports import BaseService
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData
from domain.providers import Provider
from domain.query.values import Period


async def close_all(services: Mapping[Provider, BaseService] | list[BaseService]) -> None:
    for service in services.values() if isinstance(services, Mapping) else services:
        aclose = getattr(service, "aclose", None)
        if aclose is not None:
            await aclose()


class V10Harness(Harness):
    """One provider's v10 adapter against the wire simulators."""

    faults = frozenset(WIRE_FAULTS)

    def __init__(self, provider: Provider, options: Mapping[str, str] | None = None) -> None:
        self.provider = provider
        self.simulators = ProviderSimulators({"latency": "none"})
        self._options = dict(options or {})
        self._made: list[BaseService] = []
        self.url = ""

    async def start(self) -> None:
        self.url = await self.simulators.start()

    async def service(self, fault: str | None = None) -> BaseService:
        if fault is None:
            self.simulators.faults.pop(self.provider, None)
        else:
            self.simulators.faults[self.provider] = fault
        made = build_v10_base_service(self.provider, {"url": self.url, **self._options})
        self._made.append(made)
        return made

    def expected(self, subject: PersonalIdentityNumber, period: Period) -> ProviderData:
        return simulated_record(self.provider, subject, period)

    def open_connections(self) -> int | None:
        return self.simulators.open_connections

    async def close(self) -> None:
        await close_all(self._made)
        await self.simulators.stop()
