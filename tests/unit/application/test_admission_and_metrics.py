"""Overload refusals, the per-organisation rate limit, and the metrics the saga reports."""

from __future__ import annotations

import asyncio

import pytest

from adapters.persistence.transcodings import query_transcodings
from application.errors import InvalidRequestError, OverloadedError
from application.queries import Queries, SagaSettings
from domain.providers import Provider
from tests.fakes import (
    FakeBaseService,
    FakeClock,
    FakeMetrics,
    FakePseudonymiser,
    FakeRateLimiter,
    fake_base_services,
)
from tests.unit.application.test_query_saga import SUBJECTS, WEDNESDAY_NOON, command, stored_events


def build(
    services: dict[Provider, FakeBaseService],
    *,
    max_in_flight: int = 400,
    metrics: FakeMetrics | None = None,
    rate_limiter: FakeRateLimiter | None = None,
) -> Queries:
    return Queries(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        base_services=services,
        clock=FakeClock(WEDNESDAY_NOON),
        pseudonymiser=FakePseudonymiser(),
        transcodings=query_transcodings(),
        settings=SagaSettings(budget_fraction=0.05, max_in_flight=max_in_flight),
        metrics=metrics,
        rate_limiter=rate_limiter,
    )


async def test_above_the_in_flight_limit_new_queries_are_refused_at_once_admitted_ones_finish() -> (
    None
):
    services = fake_base_services()
    for service in services.values():
        service.delay_s = 0.2
    queries = build(services, max_in_flight=2)
    first = asyncio.create_task(queries.submit(command(SUBJECTS[:1])))
    second = asyncio.create_task(queries.submit(command(SUBJECTS[1:2])))
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OverloadedError) as refused:
        await queries.submit(command(SUBJECTS[2:3]))
    assert loop.time() - started < 0.05
    assert refused.value.reason == "TOO_MANY_QUERIES_IN_FLIGHT"
    answers = await asyncio.gather(first, second)
    assert all(len(a.parts) == 8 for a in answers)
    await queries.submit(command(SUBJECTS[3:4]))  # capacity is back once they finished


async def test_an_organisation_over_its_rate_is_refused_before_any_provider_is_asked() -> None:
    services = fake_base_services()
    queries = build(services, rate_limiter=FakeRateLimiter(allowed=1))
    await queries.submit(command())
    with pytest.raises(OverloadedError) as refused:
        await queries.submit(command(SUBJECTS[1:2]))
    assert refused.value.reason == "ORGANISATION_RATE_LIMIT"
    assert refused.value.retry_after_s == 0.25  # what the limiter says, not a constant
    assert len(services[Provider.CSN].calls) == 1
    names = [type(e).__name__ for e in stored_events(queries)]
    assert names.count("Received") == 1


async def test_metrics_count_each_query_by_outcome_and_each_call_by_provider_and_source() -> None:
    services = fake_base_services(skatteverket="fail", csn="hang")
    metrics = FakeMetrics()
    queries = build(services, metrics=metrics)
    await queries.submit(command())
    with pytest.raises(InvalidRequestError):
        await queries.submit(command(("19121212-1213",)))
    assert metrics.queries == ["ANSWERED", "INVALID_ARGUMENT"]
    assert len(metrics.calls) == 8
    assert ("SKATTEVERKET", "ERROR", "BT") in metrics.calls
    assert ("CSN", "ERROR", "SSBT") in metrics.calls
    assert ("ARBETSFORMEDLINGEN", "ANSWERED", None) in metrics.calls
