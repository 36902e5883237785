"""Each provider's bulkhead and circuit breaker (ADR 20), alone and in the saga."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import attrs

from application.provider_guard import (
    BreakerState,
    CircuitBreaker,
    GuardSettings,
    ProviderGuard,
    Ticket,
)
from application.queries import SagaSettings
from domain.providers import Provider
from domain.query.answer import CompiledAnswer, PartError, ProviderPart
from domain.query.values import ErrorSource, OutcomeKind
from tests.fakes import fake_base_services
from tests.unit.application.test_query_saga import SUBJECTS, WEDNESDAY_NOON, build, command

OPENED = dt.datetime(2026, 11, 25, 11, 0, 5, tzinfo=dt.UTC)


class ManualTime:
    def __init__(self) -> None:
        self.seconds = 100.0

    def monotonic(self) -> float:
        return self.seconds


def breaker(time: ManualTime, failures: int = 3, cool_down_s: float = 10.0) -> CircuitBreaker:
    return CircuitBreaker(
        failures_to_open=failures,
        cool_down_s=cool_down_s,
        monotonic=time.monotonic,
        now=lambda: OPENED,
    )


def state(cb: CircuitBreaker) -> BreakerState:
    return cb.state


def test_consecutive_failures_open_the_breaker_and_an_answer_in_between_resets_the_count() -> None:
    time = ManualTime()
    cb = breaker(time)
    for _ in range(2):
        cb.failed(probe=False)
    cb.reached(probe=False)
    for _ in range(2):
        cb.failed(probe=False)
    assert state(cb) is BreakerState.CLOSED
    assert cb.admit() is True
    cb.failed(probe=False)
    assert state(cb) is BreakerState.OPEN
    assert cb.since == OPENED
    assert cb.admit() is False


def test_after_the_cool_down_one_probe_goes_and_its_answer_closes_the_breaker() -> None:
    time = ManualTime()
    cb = breaker(time, failures=1)
    cb.failed(probe=False)
    time.seconds += 9.9
    assert cb.admit() is False
    time.seconds += 0.1
    assert state(cb) is BreakerState.HALF_OPEN
    assert cb.admit() is None  # the probe
    assert cb.admit() is False  # the others still fail at once
    cb.failed(probe=False)  # a late call admitted before the breaker opened: not evidence
    assert state(cb) is BreakerState.HALF_OPEN
    cb.reached(probe=True)
    assert state(cb) is BreakerState.CLOSED
    assert cb.since is None
    assert cb.admit() is True


def test_a_failed_probe_opens_the_breaker_for_a_new_cool_down_and_keeps_since_when() -> None:
    time = ManualTime()
    cb = breaker(time, failures=1)
    cb.failed(probe=False)
    time.seconds += 10
    assert cb.admit() is None
    cb.failed(probe=True)
    assert state(cb) is BreakerState.OPEN
    assert cb.since == OPENED
    time.seconds += 9
    assert cb.admit() is False
    time.seconds += 1
    assert cb.admit() is None


def test_a_probe_cancelled_with_its_query_lets_the_next_call_probe() -> None:
    time = ManualTime()
    cb = breaker(time, failures=1)
    cb.failed(probe=False)
    time.seconds += 10
    assert cb.admit() is None
    cb.abandoned(probe=True)
    assert state(cb) is BreakerState.HALF_OPEN
    assert cb.admit() is None


def test_the_bulkhead_refuses_calls_beyond_its_limit_at_once_and_frees_slots_on_close() -> None:
    time = ManualTime()
    guard = ProviderGuard(2, breaker(time), min_timeout_s=1.0)
    first, second = guard.enter(), guard.enter()
    assert isinstance(first, Ticket)
    assert isinstance(second, Ticket)
    refused = guard.enter()
    assert isinstance(refused, PartError)
    assert (refused.source, refused.code) == (ErrorSource.SSBT, "TOO_MANY_CALLS")
    first.close()
    assert isinstance(guard.enter(), Ticket)


def test_the_limit_is_the_share_of_the_peak_rate_times_the_budget() -> None:
    settings = GuardSettings(
        peak_call_rate=20, hold_s=5.6, shares=((Provider.CSN, 0.25), (Provider.MIGRATIONSVERKET, 0))
    )
    assert settings.limit(Provider.SKATTEVERKET) == 112
    assert settings.limit(Provider.CSN) == 28
    assert settings.limit(Provider.MIGRATIONSVERKET) == settings.minimum_limit


def guarded(**guards: Any) -> SagaSettings:
    return SagaSettings(
        budget_fraction=0.05, guards=attrs.evolve(GuardSettings(min_timeout_s=0.0), **guards)
    )


async def test_a_hung_provider_trips_its_breaker_and_later_queries_do_not_wait_for_it() -> None:
    services = fake_base_services(arbetsformedlingen="hang")
    queries = build(services, settings=guarded(failures_to_open=2, cool_down_s=60))
    first = await queries.submit(command(SUBJECTS[:2]))
    timed_out = [p for p in first.parts if p.provider is Provider.ARBETSFORMEDLINGEN]
    assert {p.error.code for p in timed_out if p.error} == {"TIMEOUT"}
    loop = asyncio.get_running_loop()
    started = loop.time()
    second = await queries.submit(command())
    assert loop.time() - started < 0.2  # the budget is 0.35 s: nobody waited for it
    (refused,) = [p for p in second.parts if p.provider is Provider.ARBETSFORMEDLINGEN]
    assert refused.error is not None
    assert (refused.error.source, refused.error.code) == (ErrorSource.SSBT, "UNAVAILABLE")
    since = WEDNESDAY_NOON.astimezone(dt.UTC)
    assert f"since {since:%Y-%m-%dT%H:%M:%SZ}" in refused.error.message
    others = [p for p in second.parts if p.provider is not Provider.ARBETSFORMEDLINGEN]
    assert all(p.kind is OutcomeKind.ANSWERED for p in others)
    assert len(services[Provider.ARBETSFORMEDLINGEN].calls) == 2
    (status,) = await queries.check_providers([Provider.CSN])
    assert status.breaker is BreakerState.CLOSED
    (hung,) = await queries.check_providers([Provider.ARBETSFORMEDLINGEN])
    assert hung.breaker is BreakerState.OPEN
    assert hung.unavailable_since == WEDNESDAY_NOON
    queries.close()


async def test_a_recovered_provider_closes_its_breaker_through_one_probe() -> None:
    services = fake_base_services(csn="unreachable")
    queries = build(services, settings=guarded(failures_to_open=1, cool_down_s=0.2))
    await queries.submit(command())
    services[Provider.CSN].mode = "answer"
    refused = _csn(await queries.submit(command()))
    assert refused.error is not None
    assert refused.error.code == "UNAVAILABLE"
    await asyncio.sleep(0.25)
    assert _csn(await queries.submit(command())).kind is OutcomeKind.ANSWERED
    assert queries._fan_out.guards[Provider.CSN].breaker.state is BreakerState.CLOSED
    assert len(services[Provider.CSN].calls) == 2
    queries.close()


def _csn(answer: CompiledAnswer) -> ProviderPart:
    (part,) = [p for p in answer.parts if p.provider is Provider.CSN]
    return part


async def test_a_provider_failure_it_reports_itself_never_trips_the_breaker() -> None:
    services = fake_base_services(csn="fail")
    queries = build(services, settings=guarded(failures_to_open=1))
    for _ in range(3):
        answer = await queries.submit(command())
        (part,) = [p for p in answer.parts if p.provider is Provider.CSN]
        assert part.error is not None
        assert part.error.source is ErrorSource.BT
    queries.close()


async def test_calls_beyond_a_providers_bulkhead_fail_at_once() -> None:
    limit = 2
    services = fake_base_services(arbetsformedlingen="hang")
    queries = build(
        services, settings=guarded(minimum_limit=limit, peak_call_rate=0, failures_to_open=99)
    )
    answer = await queries.submit(command(SUBJECTS[:5]))
    codes = sorted(
        p.error.code for p in answer.parts if p.provider is Provider.ARBETSFORMEDLINGEN and p.error
    )
    assert codes == ["TIMEOUT"] * limit + ["TOO_MANY_CALLS"] * 3
    assert len(services[Provider.ARBETSFORMEDLINGEN].calls) == limit
    assert all(
        p.kind is OutcomeKind.ANSWERED
        for p in answer.parts
        if p.provider is not Provider.ARBETSFORMEDLINGEN
    )
    queries.close()
