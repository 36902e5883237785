"""SIMULATED base services: one ``SimulatedBaseService`` per provider, behind the port.

Each call draws its fault and its latency from a generator seeded by the profile's
``seed`` and the provider, waits, and then behaves as the fault says: answers (the
provider's wire payload, read by the adapter step), reports a failure of the provider's
own (``BaseServiceReportedError`` with the provider's code), answers with something
unreadable (``MalformedAnswerError``), cannot be reached (``BaseServiceUnreachableError``) or
never answers until the caller cancels it.
"""

from __future__ import annotations

import asyncio
import random
import time

from adapters.providers.simulated import rules
from adapters.providers.simulated.catalogue import (
    garbled,
    read_payload,
    simulated_failure_payload,
    simulated_payload,
)
from adapters.providers.simulated.profile import Fault, SimulationProfile
from application.ports import BaseServiceHealth, BaseServiceUnreachableError
from domain.identity import PersonalIdentityNumber
from domain.providers import PROFILES, Provider
from domain.query.answer import ProviderAnswer
from domain.query.values import Period


async def _never_answer() -> None:
    """Hang until cancelled (the caller's time-out)."""
    await asyncio.Event().wait()


class SimulatedBaseService:
    """A SIMULATED base service of ``provider`` (implements ``application.ports.BaseService``)."""

    def __init__(self, provider: Provider, profile: SimulationProfile | None = None) -> None:
        self._provider = provider
        self._profile = profile if profile is not None else SimulationProfile()
        self._calls = rules.rng("fetch-faults", self._profile.seed, provider.value)
        self._checks = rules.rng("check-faults", self._profile.seed, provider.value)

    def __repr__(self) -> str:
        return f"SimulatedBaseService({self._provider.value}, {self._profile!r})"

    @property
    def provider(self) -> Provider:
        return self._provider

    @property
    def profile(self) -> SimulationProfile:
        return self._profile

    def _draw(self, source: random.Random) -> tuple[Fault, float, random.Random]:
        """The call's fault, its latency and a generator for its details, in one go."""
        fault = self._profile.draw_fault(source)
        delay = self._profile.latency.sample(source)
        return fault, delay, random.Random(source.getrandbits(64))  # noqa: S311 (simulation)

    def _unreachable(self) -> BaseServiceUnreachableError:
        name = PROFILES[self._provider].name
        return BaseServiceUnreachableError(
            f"{name}'s base service could not be reached (simulated)"
        )

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        """What the simulated provider holds about ``subject`` for ``period``."""
        fault, delay, details = self._draw(self._calls)
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is Fault.HANG:
            await _never_answer()
        if fault is Fault.UNREACHABLE:
            raise self._unreachable()
        if fault is Fault.ERROR:
            payload = simulated_failure_payload(self._provider, details)
        else:
            payload = simulated_payload(self._provider, subject, period)
        answer: object = payload
        if fault is Fault.MALFORMED:
            answer = garbled(self._provider, payload, details)
        record = read_payload(self._provider, answer, subject)
        return ProviderAnswer(provider=self._provider, subject=subject, record=record)

    async def check(self) -> BaseServiceHealth:
        """The test call (``testaBastjanstInformation``): no personal data involved."""
        fault, delay, _ = self._draw(self._checks)
        started = time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is Fault.HANG:
            await _never_answer()
        reachable = fault is not Fault.UNREACHABLE
        return BaseServiceHealth(
            provider=self._provider,
            reachable=reachable,
            latency_ms=round((time.monotonic() - started) * 1000),
            detail=(
                "simulated base service answered the test call"
                if reachable
                else "simulated base service could not be reached"
            ),
        )
