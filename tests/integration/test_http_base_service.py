"""The HTTP base-service adapter against a local base service: answers, health, options."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.providers.http_json import build_http_base_services
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
