"""Background work beside the queries, paced: a short pause after each bounded piece.

The audit sealer and the recovery step do their store work in worker threads, and in
CPython a worker thread shares the interpreter lock with the event loop that answers the
queries. Done in one go, a round of such work (a minute of events, tens of thousands at
full load, for the sealer) takes the lock in long stretches, and the queries wait behind
it: the benchmark's p99 showed it (``bench/README.md``). A ``Pacer`` is called by such work
after each bounded piece (a page of the log, a few hundred hashed events) and sleeps,
releasing the lock, so the pieces take at most ``duty`` of the time while a round lasts.
The same work is done, a little later; the queries keep their latency. (The incidents
follower, a small round every 2 s, is not paced: measured, it cost more than it gave; ADR
11.) A paced round holds its worker thread up to 1 / ``duty`` times as long; the four
background jobs (sealer, recovery, follower, deadline check) hold at most four of the
default executor's threads (six on two cores), the rest serve the queries' saves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

BACKGROUND_DUTY: Final = 0.25
"""The share of the time paced background work may take while it has work to do."""

Pace = Callable[[], None]
"""Called by background work after each bounded piece of it."""


def no_pacing() -> None:
    """Straight through: for work nothing waits behind (shutdown, tools, tests)."""


class Pacer:
    """After each piece, sleep ``(1 - duty) / duty`` times as long as the piece took
    (measured from the previous call, or from the pacer's creation)."""

    def __init__(
        self,
        duty: float = BACKGROUND_DUTY,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < duty <= 1:
            raise ValueError("duty must be more than 0 and at most 1")
        self._factor = (1 - duty) / duty
        self._clock = clock
        self._sleep = sleep
        self._began = clock()

    def __call__(self) -> None:
        self._sleep((self._clock() - self._began) * self._factor)
        self._began = self._clock()
