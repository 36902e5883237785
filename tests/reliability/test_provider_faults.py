"""Provider faults for one, four and all eight providers: every query is answered by its
deadline with per-provider errors; cancelled calls stop; tasks, file descriptors and
memory return to their baseline.

``SSBTEK_SOAK=1`` runs the memory check over 10,000 queries instead of 1,000.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.providers.simulated import (
    FixedLatency,
    SimulatedBaseService,
    SimulationProfile,
    build_simulated_base_services,
)
from application.ports import BaseService
from application.queries import Queries, SagaSettings
from domain.providers import Provider
from domain.query.values import ErrorSource, OutcomeKind
from infrastructure.composition import build_queries
from infrastructure.settings import Settings, Store
from tests import canaries
from tests.fakes import FakeClock
from tests.unit.application.test_query_saga import WEDNESDAY_NOON, command

SOAK = os.environ.get("SSBTEK_SOAK") == "1"
FAULTS = {
    "hang": (SimulationProfile(hang_rate=1.0), ErrorSource.SSBT, "TIMEOUT"),
    "latency": (SimulationProfile(latency=FixedLatency(5.0)), ErrorSource.SSBT, "TIMEOUT"),
    "error": (SimulationProfile(error_rate=1.0), ErrorSource.BT, None),
    "malformed": (SimulationProfile(malformed_rate=1.0), ErrorSource.SSBT, "MALFORMED_ANSWER"),
    "refused": (SimulationProfile(unreachable_rate=1.0), ErrorSource.SSBT, "UNREACHABLE"),
}
SUBJECTS = tuple(canaries.personnummer(random.Random(n)) for n in range(10))


def services_with(fault: SimulationProfile, faulty: list[Provider]) -> dict[Provider, BaseService]:
    services = build_simulated_base_services({"latency": "none"})
    for provider in faulty:
        services[provider] = SimulatedBaseService(provider, fault)
    return services


def queries_on(
    settings: Settings, services: dict[Provider, BaseService], saga: SagaSettings | None = None
) -> Queries:
    return build_queries(
        settings, base_services=services, clock=FakeClock(WEDNESDAY_NOON), saga=saga
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store=Store.SQLITE,
        data_dir=tmp_path,
        pseudonym_key_hex="44" * 32,
        budget_fraction=0.1,  # 0.7 s for one subject
        rate_limit="",
    )


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("count", [1, 4, 8])
async def test_every_query_is_answered_by_its_deadline_with_the_faulty_providers_reported(
    settings: Settings, fault: str, count: int
) -> None:
    profile, source, code = FAULTS[fault]
    faulty = list(Provider)[:count]
    queries = queries_on(settings, services_with(profile, faulty))
    loop = asyncio.get_running_loop()
    try:
        for subjects in (SUBJECTS[:1], SUBJECTS[:3]):
            started = loop.time()
            answer = await queries.submit(command(subjects))
            budget = settings.budget_fraction * (7 + 1.5 * (len(subjects) - 1))
            assert loop.time() - started < budget + 0.5
            for part in answer.parts:
                if part.provider in faulty:
                    assert part.kind is OutcomeKind.ERROR
                    assert part.error is not None
                    assert part.error.source is source, (part.provider, part.error.code)
                    if code is not None:
                        assert part.error.code == code
                else:
                    assert part.kind in (OutcomeKind.ANSWERED, OutcomeKind.NO_DATA)
    finally:
        queries.close()


async def test_cancelled_calls_stop_and_tasks_and_descriptors_return_to_baseline(
    settings: Settings,
) -> None:
    queries = queries_on(
        settings, services_with(SimulationProfile(hang_rate=1.0), list(Provider)[:4])
    )
    try:
        await queries.submit(command())  # warm up: the store's connection, the thread pool
        tasks_before = len(asyncio.all_tasks())
        fds_before = open_fds()
        await asyncio.gather(
            *(queries.submit(command(SUBJECTS[i : i + 2])) for i in range(0, 10, 2))
        )
        await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_fds() == fds_before
    finally:
        queries.close()


def _traced_kib() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0] // 1024


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.mark.timeout(900 if SOAK else 120)
async def test_memory_stays_bounded_over_many_queries(settings: Settings, traced: None) -> None:
    total = 10_000 if SOAK else 1_000
    services = services_with(
        SimulationProfile(error_rate=0.5, malformed_rate=0.2, seed=7), list(Provider)[:2]
    )
    # tracemalloc slows the event loop several times over; the store gate is not under test
    # here, so its time limit is set far above what a saturated loop needs.
    saga = SagaSettings(budget_fraction=settings.budget_fraction, store_read_timeout_s=30)
    queries = queries_on(settings, services, saga)
    try:

        async def batch(count: int) -> None:
            for start in range(0, count, 50):
                await asyncio.gather(
                    *(
                        queries.submit(command(SUBJECTS[(start + i) % 10 : (start + i) % 10 + 1]))
                        for i in range(50)
                    )
                )

        await batch(total // 10)
        after_warm_up = _traced_kib()
        await batch(total - total // 10)
        growth = _traced_kib() - after_warm_up
    finally:
        queries.close()
    assert growth < 2048, f"{growth} KiB more after {total} queries"
