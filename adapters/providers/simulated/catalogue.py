"""SIMULATED data providers: the eight simulations, and the steps every answer goes through.

``simulated_payload`` builds a provider's raw, wire-shaped answer; ``read_payload`` is the
adapter step that turns it into a domain record (or a port error); ``simulated_record``
does both. ``garbled`` spoils a payload the way a broken provider might, so that reading
it fails.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from adapters.providers.simulated import (
    arbetsformedlingen,
    csn,
    forsakringskassan,
    migrationsverket,
    pensionsmyndigheten,
    rules,
    skatteverket,
    transportstyrelsen,
    unemployment_funds,
)
from adapters.providers.simulated._kit import Payload, ProviderSimulation, malformed
from domain.errors import InvalidValueError
from domain.identity import PersonalIdentityNumber
from domain.provider_data import ProviderData
from domain.providers import Provider
from domain.query.values import Period

SIMULATIONS: Final[Mapping[Provider, ProviderSimulation]] = MappingProxyType(
    {
        simulation.provider: simulation
        for simulation in (
            arbetsformedlingen.SIMULATION,
            csn.SIMULATION,
            forsakringskassan.SIMULATION,
            migrationsverket.SIMULATION,
            pensionsmyndigheten.SIMULATION,
            skatteverket.SIMULATION,
            unemployment_funds.SIMULATION,
            transportstyrelsen.SIMULATION,
        )
    }
)

_TRUNCATED: Final = '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope><soap:Body><svar'
_GARBLED: Final = ["\ufffd\ufffd"]


def simulated_payload(
    provider: Provider, subject: PersonalIdentityNumber, period: Period
) -> Payload:
    """The raw answer the simulated ``provider`` gives about ``subject`` for ``period``
    (cut to the years the simulation keeps records of, ``rules.SIMULATED_YEARS``)."""
    return SIMULATIONS[provider].answer(subject, rules.within_simulated_years(period))


def simulated_failure_payload(provider: Provider, source: random.Random) -> Payload:
    """A raw answer in which the simulated ``provider`` reports a failure of its own."""
    return SIMULATIONS[provider].failure(source)


def read_payload(
    provider: Provider, payload: object, subject: PersonalIdentityNumber
) -> ProviderData:
    """The adapter step: the domain record, or a ``BaseServiceReportedError`` or
    ``MalformedAnswerError``.

    A value the domain refuses (an amount in fractions of öre, say) makes the answer
    malformed; the domain's message is dropped with it.
    """
    record: ProviderData | None
    try:
        record = SIMULATIONS[provider].interpret(payload, subject)
    except InvalidValueError:
        record = None
    if record is None:
        raise malformed(provider, "a value the domain refuses")
    return record


def simulated_record(
    provider: Provider, subject: PersonalIdentityNumber, period: Period
) -> ProviderData:
    """What the simulated ``provider`` says about ``subject`` for ``period``, read."""
    return read_payload(provider, simulated_payload(provider, subject, period), subject)


def garbled(provider: Provider, payload: Payload, source: random.Random) -> object:
    """``payload`` spoilt so that reading it fails: cut short, a field lost or mangled."""
    way = source.choice(("truncated", "missing", "mangled"))
    if way == "truncated":
        return _TRUNCATED
    spoilt = copy.deepcopy(payload)
    key = source.choice(SIMULATIONS[provider].essential_keys)
    if way == "missing":
        spoilt.pop(key, None)
    else:
        spoilt[key] = list(_GARBLED)
    return spoilt
