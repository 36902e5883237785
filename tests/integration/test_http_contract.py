"""The contract kit against the ``http`` adapter, over real sockets to a fault-injecting server."""

from __future__ import annotations

import pytest

from adapters.providers.http_json import build_http_base_services
from adapters.providers.simulated.catalogue import simulated_record
from adapters.providers.testing import BaseServiceContract, Harness
from application.ports import BaseService
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData
from domain.providers import Provider
from domain.query.values import Period
from tests.reliability.fault_http_server import FaultServer
from tests.v10_support import close_all

MODES = {"hang": "drip", "reset": "reset", "oversized": "huge", "error": "error"}
MODES |= {"malformed": "malformed"}


class HttpHarness(Harness):
    faults = frozenset(MODES)

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.server = FaultServer({})
        self._made: list[BaseService] = []
        self._url = ""

    async def start(self) -> None:
        self._url = await self.server.start()

    async def service(self, fault: str | None = None) -> BaseService:
        self.server.modes = {self.provider: MODES[fault]} if fault else {}
        made = build_http_base_services({"url": self._url})[self.provider]
        self._made.append(made)
        return made

    def expected(self, subject: PersonalIdentityNumber, period: Period) -> ProviderData:
        return simulated_record(self.provider, subject, period)

    def open_connections(self) -> int | None:
        return self.server.open_connections

    async def close(self) -> None:
        await close_all(self._made)
        await self.server.stop()


class TestHttpBaseServices(BaseServiceContract):
    @pytest.fixture(params=list(Provider), ids=lambda provider: provider.name)
    def provider(self, request: pytest.FixtureRequest) -> Provider:
        return Provider(request.param)

    def make_harness(self, provider: Provider) -> Harness:
        return HttpHarness(provider)
