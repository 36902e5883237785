"""Admission control (ADR 26): how many queries the service takes on at once, and whose.

Transport-neutral and synchronous: the gRPC interceptor and the SOAP endpoint ask
``Admission.admit`` FIRST, before any work is done for a query, and release the permit when
the call ends. Two threads use it: the gRPC server's loop admits and releases, the
application's loop measures (and admits for SOAP); one lock, held for a few dictionary
operations, keeps its counts whole.

- **An adaptive limit (AIMD on measured queueing delay).** Every ``interval_s`` a probe
  measures how late the event loop runs a timer: the time every callback, every accepted
  call and every refusal waits before it runs, and the share of the interval the threads
  sharing the interpreter lock were on the CPU (the application's loop, and the gRPC
  server's loop when it has its own). Above ``delay_target_s``, or busier than
  ``busy_target``, the machine is saturated and the limit shrinks multiplicatively
  (``backoff``); at or below half of it, and when the limit was in use, it grows by one.
  It stays between ``minimum`` and the configured ``ceiling`` less a reserve of a tenth
  (see fair shares). A slow PROVIDER does not shrink it: waiting for a provider costs the
  machine nothing, and each provider has its own bulkhead (ADR 20).
- **Fair shares.** The organisations that asked in the last ``asking_window_s`` (and those
  still holding a slot) share the limit equally: ``share = limit // asking``. Below the
  limit anyone is admitted (work-conserving: alone, one organisation may use all of it).
  At the limit, an organisation that asks within its share (it asked while already holding
  its share fewer than ``heavy_asks`` times in this window and in the last: a quiet one)
  may still go above the limit by as much as it is under its share, ``in_progress < limit
  + share - held``; one that asks for more than its share (twenty flooding case systems)
  may not. So the floods share the limit among themselves and a quiet organisation always
  finds room beside them. Never above the ceiling.
- **RetryInfo from the drain rate.** Finished queries are counted per interval (an
  exponentially weighted rate); a refusal says to come back after the time the service
  needs to work off what it holds now, ``in_progress / drain_rate``, with +-25 % jitter so
  that refused callers do not return together, between ``retry_min_s`` and ``retry_max_s``.
"""

from __future__ import annotations

import asyncio
import enum
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol

import attrs

from application.errors import OverloadedError

REASON: Final = "TOO_MANY_QUERIES_IN_FLIGHT"
"""The ``ErrorReason`` of every admission refusal; ``Quota`` says which limit it was."""


class Quota(enum.StrEnum):
    SERVICE_LIMIT = "SERVICE_LIMIT"
    """The service's limit of queries in progress (all organisations together)."""
    ORGANISATION_SHARE = "ORGANISATION_SHARE"
    """The asking organisation's equal share of that limit, while others are asking too."""


@attrs.frozen
class AdmissionSettings:
    ceiling: int = 400
    """Never more queries in progress than this (``SSBTEK_MAX_IN_FLIGHT``)."""
    minimum: int = 8
    """The limit never shrinks below this (nor above the ceiling)."""
    initial: int = 64
    delay_target_s: float = 0.005
    """Event-loop delay above which the machine is taken to be saturated."""
    busy_target: float = 0.8
    """Share of the time the event loop's thread may be busy: the rest is kept for taking
    calls from grpc (one at a time per method, each a few turns of the loop) and refusing
    them; busier, the limit shrinks."""
    interval_s: float = 0.05
    backoff: float = 0.9
    adaptive: bool = True
    """False: the limit stays at its maximum (tests; an operator's fixed limit)."""
    asking_window_s: float = 1.0
    heavy_asks: int = 1
    """Asking this often in a window while already holding its share, an organisation asks
    for more than its share."""
    retry_min_s: float = 0.05
    retry_max_s: float = 10.0

    @property
    def maximum(self) -> int:
        """The largest limit: the ceiling less a tenth kept for organisations under their
        share (at least one slot once the ceiling is 10 or more)."""
        return max(1, self.ceiling - self.ceiling // 10)


class AdmissionMetrics(Protocol):
    def admission_refused(self, quota: str, entry_point: str) -> None:
        """One query refused by admission control (``quota``: a ``Quota`` value)."""
        ...


class NoAdmissionMetrics:
    def admission_refused(self, quota: str, entry_point: str) -> None:
        return None


class Permit:
    """One admitted query: ``release()`` once it has ended, however it ended (idempotent)."""

    __slots__ = ("_admission", "_organisation", "_released")

    def __init__(self, admission: Admission, organisation: str) -> None:
        self._admission = admission
        self._organisation = organisation
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._admission._release(self._organisation)


class Admission:
    def __init__(
        self,
        settings: AdmissionSettings,
        *,
        monotonic: Callable[[], float],
        metrics: AdmissionMetrics | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self._monotonic = monotonic
        self._metrics: AdmissionMetrics = metrics or NoAdmissionMetrics()
        self._jitter = jitter
        self._minimum = min(settings.minimum, settings.maximum)
        start = settings.initial if settings.adaptive else settings.maximum
        self._limit = float(min(max(start, self._minimum), settings.maximum))
        self._total = 0
        self._by_organisation: dict[str, int] = {}
        self._asking: dict[str, float] = {}
        self._over: dict[str, int] = {}
        """Per organisation, how often it asked while already holding its share, in this
        window and (below) in the last one: one that does so often asks for more."""
        self._over_before: dict[str, int] = {}
        self._pruned_at = monotonic()
        self._busiest = 0
        """The most queries in progress since the last observation (was the limit in use?)."""
        self._finished = 0
        self._observed_at = monotonic()
        self._drain_per_s = 0.0
        self._watcher: asyncio.Task[None] | None = None
        self._lock = threading.Lock()

    # --- what the adapters call ---------------------------------------------------------

    @property
    def in_progress(self) -> int:
        return self._total

    @property
    def limit(self) -> int:
        return int(self._limit)

    @property
    def drain_per_s(self) -> float:
        return self._drain_per_s

    def admit(self, organisation: str, entry_point: str) -> Permit:
        """A permit for one query of ``organisation``, or ``OverloadedError`` at once."""
        with self._lock:
            refused = self._admit(organisation)
        if refused is None:
            return Permit(self, organisation)
        self._metrics.admission_refused(refused.value, entry_point)
        raise OverloadedError(
            REASON, retry_after_s=self.retry_after_s(), quota=refused.value, limit=self.limit
        )

    def _admit(self, organisation: str) -> Quota | None:
        """Counts the query in and returns None, or says which quota refuses it."""
        now = self._monotonic()
        self._asking[organisation] = now
        if now - self._pruned_at > self.settings.asking_window_s:
            self._prune(now)
        limit = int(self._limit)
        total = self._total
        share = max(1, limit // len(self._asking))
        mine = self._by_organisation.get(organisation, 0)
        if mine >= share:
            self._over[organisation] = self._over.get(organisation, 0) + 1
        room = limit
        if mine < share and not self._heavy(organisation):
            room = limit + share - mine
        if total >= room or total >= self.settings.ceiling:
            shared = len(self._asking) > 1 and mine >= share
            return Quota.ORGANISATION_SHARE if shared else Quota.SERVICE_LIMIT
        self._total = total + 1
        self._by_organisation[organisation] = mine + 1
        if self._total > self._busiest:
            self._busiest = self._total
        return None

    def retry_after_s(self) -> float:
        """How long a refused caller should wait: the time to work off what is in progress
        at the measured drain rate, with jitter, within the configured bounds."""
        settings = self.settings
        if self._drain_per_s > 0:
            base = self._total / self._drain_per_s
        else:
            base = settings.retry_max_s if self._total else settings.retry_min_s
        base *= 0.75 + 0.5 * self._jitter()
        return min(settings.retry_max_s, max(settings.retry_min_s, base))

    # --- the measurements ----------------------------------------------------------------

    def observe(self, delay_s: float, busy_share: float = 0.0) -> None:
        """One sample of the event loop: how late it ran a timer, and the share of the
        interval its thread was busy (CPU). Updates the drain rate and the limit."""
        with self._lock:
            self._observe(delay_s, busy_share)

    def _observe(self, delay_s: float, busy_share: float) -> None:
        now = self._monotonic()
        elapsed = now - self._observed_at
        if elapsed > 0:
            rate = self._finished / elapsed
            self._drain_per_s += 0.3 * (rate - self._drain_per_s)
        self._finished = 0
        self._observed_at = now
        busiest, self._busiest = self._busiest, self._total
        if not self.settings.adaptive:
            return
        target, busy_target = self.settings.delay_target_s, self.settings.busy_target
        if delay_s > target or busy_share > busy_target:
            self._limit = max(float(self._minimum), self._limit * self.settings.backoff)
        elif delay_s <= target / 2 and busy_share <= busy_target and busiest >= 0.8 * self._limit:
            self._limit = min(float(self.settings.maximum), self._limit + 1)

    def watch(self, *clocks: Callable[[], float]) -> None:
        """Start measuring the running event loop's delay (once; again after ``close``).

        ``clocks``: CPU seconds, each of one share of the machine that may saturate; the
        busiest counts. By default this loop's thread. ``ssbtek serve`` gives two: the
        threads that share the interpreter lock (the application's loop and the servers'
        loop, whose refusals take the same lock), and the whole process (grpc's own threads
        too) over the cores it may use; so the limit leaves room for refusing."""
        if self._watcher is None or self._watcher.done():
            chosen = clocks or (time.thread_time,)
            self._watcher = asyncio.get_running_loop().create_task(self._watch(chosen))

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    async def _watch(self, clocks: Sequence[Callable[[], float]]) -> None:
        interval = self.settings.interval_s
        while True:
            before, cpu_before = self._monotonic(), [clock() for clock in clocks]
            await asyncio.sleep(interval)
            elapsed = self._monotonic() - before
            used = (clock() - at for clock, at in zip(clocks, cpu_before, strict=True))
            busy = max(used) / elapsed if elapsed > 0 else 0.0
            self.observe(max(0.0, elapsed - interval), busy)

    def _heavy(self, organisation: str) -> bool:
        heavy = self.settings.heavy_asks
        return (
            self._over.get(organisation, 0) >= heavy
            or self._over_before.get(organisation, 0) >= heavy
        )

    def _release(self, organisation: str) -> None:
        with self._lock:
            self._released(organisation)

    def _released(self, organisation: str) -> None:
        self._total -= 1
        self._finished += 1
        left = self._by_organisation[organisation] - 1
        if left:
            self._by_organisation[organisation] = left
        else:
            del self._by_organisation[organisation]

    def _prune(self, now: float) -> None:
        """Forget organisations that stopped asking (never one still holding a slot)."""
        horizon = now - self.settings.asking_window_s
        holding = self._by_organisation
        self._asking = {
            o: seen for o, seen in self._asking.items() if seen >= horizon or o in holding
        }
        self._over_before, self._over = self._over, {}
        self._pruned_at = now
