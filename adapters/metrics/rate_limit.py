"""Per-organisation rate limits with the maintained ``limits`` library (moving window)."""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class MovingWindowPerOrganisation:
    """At most ``rate`` (e.g. ``"20/second"``) queries per organisation, in this process."""

    def __init__(self, rate: str) -> None:
        self._item = parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, organisation_number: str) -> bool:
        return bool(self._limiter.hit(self._item, "organisation", organisation_number))
