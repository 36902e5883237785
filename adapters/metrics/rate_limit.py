"""Per-organisation rate limits with the maintained ``limits`` library (moving window)."""

from __future__ import annotations

import time

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

    def retry_after_s(self, organisation_number: str) -> float:
        """Seconds until the organisation's oldest query in the window leaves it (a slot
        is free again): what a refused caller should wait, not a constant."""
        reset, _remaining = self._limiter.get_window_stats(
            self._item, "organisation", organisation_number
        )
        return max(0.0, reset - time.time())
