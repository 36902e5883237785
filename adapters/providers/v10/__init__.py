"""The ``v10`` base services: the eight providers over their own v10 contracts, on the network.

Six providers speak SOAP 1.1 document/literal (``soap``, contracts in ``contracts`` and
``wsdl/``); Försäkringskassan and Pensionsmyndigheten answer through Lefi, JSON over
HTTP (``lefi``). Every provider has its own ``httpx`` client (its own pool of reused
connections), time-out, answer-size cap and, optionally, client certificate.

Options (``--providers v10 --provider-options ...``), each also as ``<PROVIDER>.<option>``
for one provider only (e.g. ``CSN.url=https://csn.example/kommunfraga``):

- ``url``: where the providers are. For all of them at once, a base under which each
  answers on its own path (``/af``, ``/csn``, ``/lefi``, ``/miv``, ``/skv``, ``/so``,
  ``/tns``: what ``ssbtek simulate-providers`` serves); for one provider, its endpoint
  (for FK and PM, the Lefi base before ``/lefi-extern-formansinformation``).
- ``timeout``: seconds one call may take (default 5.6, the saga's budget for one subject:
  80 % of 7 s); the saga's own deadline may cut a call sooner.
- ``max_answer_bytes``: the largest answer read (default 1000000); a larger one is refused.
- ``max_connections``: connections kept per provider (default 20).
- ``tls_certificate``, ``tls_private_key``: our client certificate for mutual TLS (PEM);
  ``tls_ca``: the CA that signs the providers' server certificates.
- ``organisation``, ``organisation_name``: who asks, as the contracts' Ingivare fields
  want it (default the operator, 202100-5521 "SSBTEK"); ``lefi_actor``: Lefi's aktorsId.

An unknown option, a missing url or a bad number raises ``ValueError`` naming the option.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from adapters.providers.v10._http import Endpoint, Tls, Wire
from adapters.providers.v10.contracts import CONTRACTS, Asker
from adapters.providers.v10.lefi import LefiBaseService
from adapters.providers.v10.soap import SoapBaseService
from application.ports import BaseService
from domain.providers import Provider

PATHS: Final = {
    **{provider: contract.path for provider, contract in CONTRACTS.items()},
    Provider.FORSAKRINGSKASSAN: "/lefi",
    Provider.PENSIONSMYNDIGHETEN: "/lefi",
}
PER_PROVIDER: Final = (
    "url",
    "timeout",
    "max_answer_bytes",
    "max_connections",
    "tls_certificate",
    "tls_private_key",
    "tls_ca",
)
SHARED_ONLY: Final = ("organisation", "organisation_name", "lefi_actor")
DEFAULT_TIMEOUT: Final = 5.6
DEFAULT_MAX_ANSWER_BYTES: Final = 1_000_000


def _number(options: Mapping[str, str], key: str, default: float, whole: bool) -> float:
    text = options.get(key)
    if text is None:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise ValueError(f"option {key!r} needs a {'whole ' if whole else ''}number") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"option {key!r} needs a number above 0")
    return value


def endpoint_of(provider: Provider, options: Mapping[str, str]) -> Endpoint:
    """The endpoint ``options`` give ``provider`` (its own ``<PROVIDER>.x`` over ``x``)."""
    own = {
        key: options[f"{provider.name}.{key}"]
        for key in PER_PROVIDER
        if f"{provider.name}.{key}" in options
    }
    merged = {key: options[key] for key in PER_PROVIDER if key in options} | own
    if "url" in own:
        url = own["url"].rstrip("/")
    elif "url" in merged:
        url = merged["url"].rstrip("/") + PATHS[provider]
    else:
        raise ValueError(f"no url for {provider.name}: give url= or {provider.name}.url=")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"option 'url' for {provider.name} must be http:// or https://")
    certificate, key = merged.get("tls_certificate"), merged.get("tls_private_key")
    if (certificate is None) != (key is None):
        raise ValueError("options 'tls_certificate' and 'tls_private_key' go together")
    return Endpoint(
        provider=provider,
        url=url,
        timeout=_number(merged, "timeout", DEFAULT_TIMEOUT, whole=False),
        max_answer_bytes=int(
            _number(merged, "max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES, whole=True)
        ),
        max_connections=int(_number(merged, "max_connections", 20, whole=True)),
        tls=Tls(certificate, key, merged.get("tls_ca")),
    )


def build_v10_base_service(provider: Provider, options: Mapping[str, str]) -> BaseService:
    """One provider's v10 adapter, with its own client."""
    wire = Wire(endpoint_of(provider, options))
    if provider in CONTRACTS:
        asker = Asker(
            organisation_number=options.get("organisation", "2021005521").replace("-", ""),
            organisation_name=options.get("organisation_name", "SSBTEK"),
        )
        return SoapBaseService(CONTRACTS[provider], wire, asker)
    return LefiBaseService(provider, wire, options.get("lefi_actor", "ssbtek"))


def _unknown(options: Mapping[str, str]) -> list[str]:
    known = set(PER_PROVIDER) | set(SHARED_ONLY)
    known |= {f"{provider.name}.{key}" for provider in Provider for key in PER_PROVIDER}
    return sorted(set(options) - known)


def option_problems(options: Mapping[str, str]) -> list[str]:
    """One line per bad option, naming it and never its value (``ssbtek serve`` asks first)."""
    problems = [f"{key}: unknown option for the v10 base services" for key in _unknown(options)]
    for provider in Provider:
        try:
            endpoint_of(provider, options)
        except ValueError as error:
            if str(error) not in problems:
                problems.append(str(error))
    return problems


def build_v10_base_services(options: Mapping[str, str]) -> dict[Provider, BaseService]:
    """The ``v10`` entry point: the eight providers over their v10 contracts."""
    unknown = _unknown(options)
    if unknown:
        raise ValueError(f"unknown option(s) for the v10 base services: {', '.join(unknown)}")
    return {provider: build_v10_base_service(provider, options) for provider in Provider}
