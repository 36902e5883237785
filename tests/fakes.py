"""Fakes for the application's ports, for unit tests only."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import time
from collections.abc import Callable

import attrs

from application.ports import (
    AccessDecision,
    BaseServiceHealth,
    BaseServiceReportedError,
    BaseServiceUnreachableError,
    MalformedAnswerError,
)
from domain.identity import PersonalIdentityNumber
from domain.providers import Provider
from domain.query.answer import ProviderAnswer, ProviderRecord
from domain.query.values import Period
from tests import canaries


@attrs.frozen(repr=False)
class FakeRecord:
    """A stand-in for a provider's record: what it says, and the flags the saga reads."""

    payload: str = "data"
    protected_identity: bool = False
    is_empty: bool = False


class FakeClock:
    """A clock that moves only when told to (wall time) and counts monotonic time truly."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta

    def monotonic(self) -> float:
        return time.monotonic()


Behaviour = Callable[[PersonalIdentityNumber, Period], ProviderRecord]


class FakeBaseService:
    """A base service that does what the test says: answer, fail, hang, or misbehave."""

    def __init__(
        self,
        provider: Provider,
        *,
        mode: str = "answer",
        record: Behaviour | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self._provider = provider
        self.mode = mode
        self._record = record or (lambda subject, period: FakeRecord())
        self.delay_s = delay_s
        self.calls: list[tuple[PersonalIdentityNumber, Period]] = []
        self.cancelled = 0
        self.finished = 0

    @property
    def provider(self) -> Provider:
        return self._provider

    async def fetch(self, subject: PersonalIdentityNumber, period: Period) -> ProviderAnswer:
        self.calls.append((subject, period))
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.mode == "hang":
                await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        if self.mode == "fail":
            raise BaseServiceReportedError("1001", "Tekniskt fel hos bastjänsten")
        if self.mode == "unreachable":
            raise BaseServiceUnreachableError("connection refused")
        if self.mode == "malformed":
            raise MalformedAnswerError("the answer could not be read")
        if self.mode == "crash":
            raise RuntimeError("adapter bug")
        if self.mode == "wrong-subject":
            other = PersonalIdentityNumber.parse(canaries.personnummer(random.Random(4242)))
            return ProviderAnswer(self._provider, other, self._record(subject, period))
        if self.mode == "wrong-provider":
            others = [p for p in Provider if p is not self._provider]
            return ProviderAnswer(others[0], subject, self._record(subject, period))
        return ProviderAnswer(self._provider, subject, self._record(subject, period))

    async def check(self) -> BaseServiceHealth:
        if self.mode == "hang":
            await asyncio.Event().wait()
        return BaseServiceHealth(self._provider, self.mode != "unreachable", 1, "fake")


def fake_base_services(**modes: str) -> dict[Provider, FakeBaseService]:
    """One fake per provider; ``modes`` maps a provider name (lower case) to a mode."""
    return {
        provider: FakeBaseService(provider, mode=modes.get(provider.name.lower(), "answer"))
        for provider in Provider
    }


class FakePseudonymiser:
    def pseudonym(self, purpose: str, value: str) -> str:
        return hashlib.sha256(f"fake|{purpose}|{value}".encode()).hexdigest()[:32]


class FakeAccessPolicy:
    """Refuses with ``refusal`` (or not), remembers what it was asked."""

    def __init__(
        self,
        refusal: str | None = None,
        *,
        vehicle_register_consent: bool = True,
        remembered: AccessDecision | None = None,
    ) -> None:
        self.refusal = refusal
        self.vehicle_register_consent = vehicle_register_consent
        self.remembered = remembered
        self.asked: list[tuple[str, str]] = []

    def decide(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision:
        self.asked.append((organisation_number, caseworker_pseudonym))
        return AccessDecision(self.refusal, self.vehicle_register_consent)

    def decided(
        self, organisation_number: str, caseworker_pseudonym: str, at: dt.datetime
    ) -> AccessDecision | None:
        return self.remembered


class FakeMetrics:
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.entry_points: list[str] = []
        self.calls: list[tuple[str, str, str | None]] = []

    def query_finished(self, outcome: str, seconds: float, entry_point: str) -> None:
        self.queries.append(outcome)
        self.entry_points.append(entry_point)

    def call_finished(
        self, provider: str, outcome: str, error_source: str | None, seconds: float
    ) -> None:
        self.calls.append((provider, outcome, error_source))


class FakeRateLimiter:
    def __init__(self, allowed: int) -> None:
        self.allowed = allowed

    def admit(self, organisation_number: str) -> bool:
        self.allowed -= 1
        return self.allowed >= 0

    def retry_after_s(self, organisation_number: str) -> float:
        return 0.25
