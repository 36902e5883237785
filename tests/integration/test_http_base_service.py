"""The HTTP base-service adapter against a local base service: answers, health, options."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from adapters.providers.http_json import build_http_base_services
from application.ports import BaseServiceBusyError
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import Period
from tests.reliability.fault_http_server import FaultServer

SUBJECT = PersonalIdentityNumber.parse("19121212-1212")
PERIOD = Period.of(dt.date(2025, 1, 1), dt.date(2026, 10, 31))


async def test_the_adapter_reads_each_provider_s_answer_and_reaches_its_test_call() -> None:
    server = FaultServer({})
    url = await server.start()
    try:
        services = build_http_base_services({"url": url})
        for provider, service in services.items():
            answer = await service.fetch(SUBJECT, PERIOD)
            assert answer.provider is provider
            assert answer.subject == SUBJECT
            health = await service.check()
            assert health.reachable
    finally:
        await server.stop()


def test_options_name_a_url_for_every_provider_and_nothing_unknown() -> None:
    with pytest.raises(ValueError, match="no url for"):
        build_http_base_services({"CSN.url": "http://127.0.0.1:1"})
    with pytest.raises(ValueError, match="unknown option"):
        build_http_base_services({"url": "http://127.0.0.1:1", "retries": "3"})
    services = build_http_base_services(
        {"url": "http://a.example", "CSN.url": "http://b.example", "max_answer_bytes": "10"}
    )
    assert set(services) == set(Provider)


async def test_a_provider_s_full_pool_fails_the_call_at_once_and_leaves_the_others_alone() -> None:
    """ADR 20: each provider its own connections; a call never waits for one."""
    server = FaultServer({Provider.CSN: "hang"})
    url = await server.start()
    try:
        services = build_http_base_services({"url": url, "CSN.max_connections": "2"})
        hung = [asyncio.create_task(services[Provider.CSN].fetch(SUBJECT, PERIOD)) for _ in "ab"]
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(BaseServiceBusyError):
            await services[Provider.CSN].fetch(SUBJECT, PERIOD)
        assert loop.time() - started < 0.1
        answer = await services[Provider.SKATTEVERKET].fetch(SUBJECT, PERIOD)
        assert answer.provider is Provider.SKATTEVERKET
        assert (await services[Provider.SKATTEVERKET].check()).reachable
        for task in hung:
            task.cancel()
        await asyncio.gather(*hung, return_exceptions=True)
    finally:
        await server.stop()


@pytest.mark.parametrize("value", ["0", "many"])
def test_max_connections_is_a_whole_number(value: str) -> None:
    with pytest.raises(ValueError, match="max_connections"):
        build_http_base_services({"url": "http://a.example", "max_connections": value})
