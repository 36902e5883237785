"""The contract kit against the simulated base services (in process)."""

from __future__ import annotations

import pytest

from adapters.providers.simulated import SimulatedBaseService, build_profiles
from adapters.providers.simulated.catalogue import simulated_record
from adapters.providers.testing import BaseServiceContract, Harness
from application.ports import BaseService
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData
from domain.providers import Provider
from domain.query.values import Period

RATES = {
    "hang": "hang_rate",
    "error": "error_rate",
    "malformed": "malformed_rate",
    "unreachable": "unreachable_rate",
}


class SimulatedHarness(Harness):
    networked = False
    faults = frozenset(RATES)

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    async def service(self, fault: str | None = None) -> BaseService:
        options = {"latency": "none"} | ({RATES[fault]: "1"} if fault else {})
        return SimulatedBaseService(self.provider, build_profiles(options)[self.provider])

    def expected(self, subject: PersonalIdentityNumber, period: Period) -> ProviderData:
        return simulated_record(self.provider, subject, period)


class TestSimulatedBaseServices(BaseServiceContract):
    @pytest.fixture(params=list(Provider), ids=lambda provider: provider.name)
    def provider(self, request: pytest.FixtureRequest) -> Provider:
        return Provider(request.param)

    def make_harness(self, provider: Provider) -> Harness:
        return SimulatedHarness(provider)
