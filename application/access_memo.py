"""The memo behind ``Parties.decided`` (ADR 0014): access decisions, and the data providers'
standing they read, remembered for a few seconds on the clock's monotonic time.

Every save through the ``Parties`` application calls ``forget_all``: a generation number that
is read before a decision's store reads (``generation``) and checked on recall, so a
decision read concurrently with a change is never reused. A decision is also only reused on
the same Stockholm day. The memo holds organisation numbers and keyed pseudonyms only (ADR 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Final, Generic, TypeVar

import attrs

from application.ports import AccessDecision, Clock
from domain.providers import Provider

MEMO_LIMIT: Final = 10_000
"""Access decisions remembered at most; the memo starts afresh when it is full."""

T = TypeVar("T")


@attrs.frozen
class ProviderStanding:
    """Which data providers are parties, and which of them are not connected on the day."""

    by_organisation: Mapping[str, Provider]
    not_connected: frozenset[Provider]


@attrs.frozen
class _Remembered(Generic[T]):
    value: T
    day: dt.date
    generation: int
    until: float
    """On the clock's monotonic time."""


class AccessMemo:
    """Decisions by (organisation, caseworker pseudonym), and one provider standing."""

    def __init__(self, clock: Clock, ttl_s: float, *, limit: int = MEMO_LIMIT) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._limit = limit
        self._generation = 0
        self._decisions: dict[tuple[str, str], _Remembered[AccessDecision]] = {}
        self._standing: _Remembered[ProviderStanding] | None = None

    @property
    def generation(self) -> int:
        """Read before a decision's store reads, and passed back to ``remember_*``."""
        return self._generation

    def forget_all(self) -> None:
        """A change was saved: nothing remembered before it is reused."""
        self._generation += 1

    def decision(self, organisation: str, pseudonym: str, day: dt.date) -> AccessDecision | None:
        return self._fresh(self._decisions.get((organisation, pseudonym)), day)

    def remember_decision(
        self,
        organisation: str,
        pseudonym: str,
        day: dt.date,
        generation: int,
        decision: AccessDecision,
    ) -> None:
        """Kept only when reuse is on (a time above 0); the memo starts afresh when full."""
        if self._ttl_s <= 0:
            return
        if len(self._decisions) >= self._limit:
            self._decisions.clear()
        self._decisions[(organisation, pseudonym)] = self._remembered(decision, day, generation)

    def standing(self, day: dt.date) -> ProviderStanding | None:
        return self._fresh(self._standing, day)

    def remember_standing(self, day: dt.date, generation: int, standing: ProviderStanding) -> None:
        self._standing = self._remembered(standing, day, generation)

    def _remembered(self, value: T, day: dt.date, generation: int) -> _Remembered[T]:
        return _Remembered(value, day, generation, self._clock.monotonic() + self._ttl_s)

    def _fresh(self, remembered: _Remembered[T] | None, day: dt.date) -> T | None:
        if (
            remembered is None
            or remembered.generation != self._generation
            or remembered.until <= self._clock.monotonic()
            or remembered.day != day
        ):
            return None
        return remembered.value
