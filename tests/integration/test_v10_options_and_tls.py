"""The v10 adapters' options, and mutual TLS towards a provider (real sockets, test CAs)."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest

from adapters.providers.v10 import (
    build_v10_base_service,
    build_v10_base_services,
    endpoint_of,
    option_problems,
)
from adapters.providers.v10.simulators import ProviderSimulators
from application.ports import BaseService, BaseServiceUnreachableError
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.values import Period
from tests.certificates import CertificateAuthority
from tests.v10_support import close_all

SUBJECT = PersonalIdentityNumber.parse("19121212-1212")
PERIOD = Period.of(dt.date(2025, 1, 1), dt.date(2026, 10, 31))


def test_each_provider_gets_its_path_under_url_or_its_own_url() -> None:
    options = {"url": "http://sim:8090/", "CSN.url": "https://csn.example/kommunfraga"}
    assert endpoint_of(Provider.MIGRATIONSVERKET, options).url == "http://sim:8090/miv"
    assert endpoint_of(Provider.PENSIONSMYNDIGHETEN, options).url == "http://sim:8090/lefi"
    assert endpoint_of(Provider.CSN, options).url == "https://csn.example/kommunfraga"
    timed = {"url": "http://sim", "timeout": "2", "SKATTEVERKET.timeout": "0.5"}
    assert endpoint_of(Provider.CSN, timed).timeout == 2.0
    assert endpoint_of(Provider.SKATTEVERKET, timed).timeout == 0.5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"CSN.url": "http://csn"}, "no url for"),
        ({"url": "http://sim", "retries": "3"}, "unknown option"),
        ({"url": "ftp://sim"}, "http:// or https://"),
        ({"url": "http://sim", "timeout": "soon"}, "'timeout' needs a number"),
        ({"url": "http://sim", "max_answer_bytes": "0"}, "above 0"),
        ({"url": "http://sim", "tls_certificate": "c.pem"}, "go together"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_v10_base_services(options)


def test_serve_hears_of_every_bad_option_before_it_starts() -> None:
    options = {"url": "http://sim", "timeout": "soon", "retries": "3", "CSN.url": "ftp://csn"}
    problems = option_problems(options)
    assert problems[0] == "retries: unknown option for the v10 base services"
    assert "option 'url' for CSN must be http:// or https://" in problems
    assert "option 'timeout' needs a number" in problems
    assert not any("soon" in line or "ftp://csn" in line for line in problems)
    assert option_problems({"url": "http://sim"}) == []


async def test_a_client_certificate_reaches_a_provider_that_requires_one(tmp_path: Path) -> None:
    providers_ca, our_ca = CertificateAuthority("Providers CA"), CertificateAuthority("SSBTEK CA")
    server, client = providers_ca.issue_server(), our_ca.issue_organisation("2021005521")
    files = {
        "server.pem": server.certificate_pem,
        "server.key": server.private_key_pem,
        "client.pem": client.certificate_pem,
        "client.key": client.private_key_pem,
        "providers-ca.pem": providers_ca.certificate_pem,
        "our-ca.pem": our_ca.certificate_pem,
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    tls.load_verify_locations(tmp_path / "our-ca.pem")
    tls.verify_mode = ssl.CERT_REQUIRED
    simulators = ProviderSimulators({"latency": "none"}, tls=tls)
    url = await simulators.start()
    assert url.startswith("https://")
    trusted = {"url": url, "tls_ca": str(tmp_path / "providers-ca.pem")}
    with_certificate = trusted | {
        "tls_certificate": str(tmp_path / "client.pem"),
        "tls_private_key": str(tmp_path / "client.key"),
    }
    made: list[BaseService] = []
    try:
        for provider in (Provider.CSN, Provider.FORSAKRINGSKASSAN):
            service = build_v10_base_service(provider, with_certificate)
            made.append(service)
            assert (await service.fetch(SUBJECT, PERIOD)).provider is provider
            anonymous = build_v10_base_service(provider, trusted)
            made.append(anonymous)
            with pytest.raises(BaseServiceUnreachableError):
                await anonymous.fetch(SUBJECT, PERIOD)
            without_ca = {k: v for k, v in with_certificate.items() if k != "tls_ca"}
            untrusting = build_v10_base_service(provider, without_ca)
            made.append(untrusting)
            with pytest.raises(BaseServiceUnreachableError):  # the providers' CA is not trusted
                await untrusting.fetch(SUBJECT, PERIOD)
    finally:
        await close_all(made)
        await simulators.stop()
