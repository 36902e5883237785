"""The contract kit against every v10 adapter, over real sockets to the wire simulators."""

from __future__ import annotations

import pytest

from adapters.providers.testing import BaseServiceContract, Harness
from domain.providers import Provider
from tests.v10_support import V10Harness


class TestV10BaseServices(BaseServiceContract):
    @pytest.fixture(params=list(Provider), ids=lambda provider: provider.name)
    def provider(self, request: pytest.FixtureRequest) -> Provider:
        return Provider(request.param)

    def make_harness(self, provider: Provider) -> Harness:
        return V10Harness(provider)
