"""Wire faults under the v10 adapters: each fault the simulators inject, for one, four and all
eight providers. Every query is answered by its deadline; each faulty provider's part is an
error with the right source (and code), every other provider's part is its answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.providers.v10 import build_v10_base_services
from adapters.providers.v10.simulators import WIRE_FAULTS, ProviderSimulators
from domain.providers import Provider
from domain.query.values import ErrorSource, OutcomeKind
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests.fakes import FakeClock
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command
from tests.v10_support import close_all

EXPECTED: dict[str, tuple[ErrorSource, str | None]] = {
    "hang": (ErrorSource.SSBT, "TIMEOUT"),
    "reset": (ErrorSource.SSBT, "UNREACHABLE"),
    "http500": (ErrorSource.BT, "HTTP_500"),
    "malformed": (ErrorSource.SSBT, "MALFORMED_ANSWER"),
    "oversized": (ErrorSource.SSBT, "MALFORMED_ANSWER"),
    "soap_fault": (ErrorSource.BT, None),  # SOAP_SERVER, or Lefi's HTTP_500
    "error": (ErrorSource.BT, None),  # the provider's own code
}
SETTINGS = Settings(
    store=Store.MEMORY, pseudonym_key_hex="99" * 32, rate_limit="", budget_fraction=0.3
)


@pytest.fixture
async def simulators() -> AsyncIterator[ProviderSimulators]:
    running = ProviderSimulators({"latency": "none"})
    yield running
    await running.stop()


def test_every_wire_fault_has_an_expectation() -> None:
    assert set(EXPECTED) == set(WIRE_FAULTS)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
@pytest.mark.parametrize("count", [1, 4, 8])
async def test_each_wire_fault_is_reported_per_provider_by_the_deadline(
    fault: str, count: int, simulators: ProviderSimulators
) -> None:
    faulty = list(Provider)[-count:]
    simulators.faults = dict.fromkeys(faulty, fault)
    services = build_v10_base_services({"url": await simulators.start()})
    queries = build_queries(SETTINGS, base_services=services, clock=FakeClock(WEDNESDAY_NOON))
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await queries.submit(command())
    assert loop.time() - started < SETTINGS.budget_fraction * 7 + 1.0  # 2.1 s and a margin
    for part in answer.parts:
        if part.provider in faulty:
            assert part.kind is OutcomeKind.ERROR, (fault, part.provider)
            assert part.error is not None
            source, code = EXPECTED[fault]
            assert part.error.source is source, (fault, part.provider)
            assert code is None or part.error.code == code, (fault, part.provider)
        else:
            assert part.kind in (OutcomeKind.ANSWERED, OutcomeKind.NO_DATA), part.provider
    queries.close()
    await close_all(services)
