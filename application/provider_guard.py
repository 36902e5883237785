"""One provider's bulkhead and circuit breaker (ADR 20): a failing provider harms only itself.

Every call to a base service passes its provider's guard, whatever the adapter:

- **Bulkhead**: at most ``limit`` calls to the provider are in progress at once. A call
  beyond that is not made and not queued: its part says SSBT ``TOO_MANY_CALLS`` at once.
  A hung provider can hold only its own slots (and, with the ``http`` adapter, only its
  own connection pool), never the other providers'.
- **Circuit breaker**: after ``failures_to_open`` consecutive time-outs or connection
  failures the breaker opens; for ``cool_down_s`` every call fails at once with SSBT
  ``UNAVAILABLE``, saying since when. Then it is half open: ONE call goes through as a
  probe while the others still fail at once; an answer closes the breaker, another
  time-out or connection failure opens it again for a new cool-down.

An answer of any kind counts as the provider reached: data, no data, a failure the
base service reports itself (BT), even an unreadable answer. Only the two failures
that say nothing comes back count against it. A time-out counts only when the call was
given at least ``min_timeout_s``: a caller's own short deadline says nothing about the
provider. A call cancelled with its query counts neither way.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable, Iterable

import attrs

from domain.providers import Provider
from domain.query.answer import PartError
from domain.query.values import ErrorSource, ServiceErrorCode


class BreakerState(enum.Enum):
    CLOSED = "CLOSED"
    """Calls go through."""
    OPEN = "OPEN"
    """Calls fail at once until the cool-down has passed."""
    HALF_OPEN = "HALF_OPEN"
    """The cool-down has passed: the next call is a probe; the others fail at once."""


@attrs.frozen
class GuardSettings:
    """How much each provider may hold, and when it is taken to be down."""

    peak_call_rate: float = 25.0
    """Calls a second one provider is sized for at peak (e.g. 5 queries of 5 subjects)."""
    hold_s: float = 5.6
    """How long one call may hold its slot: the providers' budget for one subject."""
    shares: tuple[tuple[Provider, float], ...] = ()
    """Per provider, its share of ``peak_call_rate``; 1 for any not named."""
    minimum_limit: int = 20
    """Never fewer: two queries of ten subjects arriving together."""
    failures_to_open: int = 5
    cool_down_s: float = 10.0
    min_timeout_s: float = 1.0

    def limit(self, provider: Provider) -> int:
        """Little's law: calls in progress = arrival rate x time each call holds a slot."""
        share = dict(self.shares).get(provider, 1.0)
        return max(self.minimum_limit, math.ceil(self.peak_call_rate * share * self.hold_s))


class CircuitBreaker:
    """Closed, open or half open, on the monotonic clock; ``since`` on the wall clock."""

    def __init__(
        self,
        *,
        failures_to_open: int,
        cool_down_s: float,
        monotonic: Callable[[], float],
        now: Callable[[], dt.datetime],
    ) -> None:
        self._failures_to_open = failures_to_open
        self._cool_down_s = cool_down_s
        self._monotonic = monotonic
        self._now = now
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.since: dt.datetime | None = None
        """When the provider was first taken to be down, until the breaker closes again."""

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._monotonic() - self._opened_at >= self._cool_down_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def admit(self) -> bool | None:
        """``False``: refused; ``True``: a normal call; ``None``: the one probe."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._probing:
            return False
        self._probing = True
        return None

    def reached(self, *, probe: bool) -> None:
        """The provider answered (anything but a time-out or a connection failure)."""
        if self._opened_at is None:
            self._failures = 0
        elif probe:
            self._failures, self._opened_at, self._probing, self.since = 0, None, False, None

    def failed(self, *, probe: bool) -> None:
        """A time-out or a connection failure."""
        if self._opened_at is None:
            self._failures += 1
            if self._failures >= self._failures_to_open:
                self._open()
        elif probe:
            self._probing = False
            self._open()

    def abandoned(self, *, probe: bool) -> None:
        """The call ended without telling anything (its query was cancelled)."""
        if probe:
            self._probing = False

    def _open(self) -> None:
        self._opened_at = self._monotonic()
        if self.since is None:
            self.since = self._now()


class Ticket:
    """One admitted call: report what came of it, then ``close`` (frees the slot)."""

    def __init__(self, guard: ProviderGuard, probe: bool) -> None:
        self._guard = guard
        self._probe = probe
        self._told = False

    def reached(self) -> None:
        self._told = True
        self._guard.breaker.reached(probe=self._probe)

    def failed(self) -> None:
        self._told = True
        self._guard.breaker.failed(probe=self._probe)

    def close(self) -> None:
        if not self._told:
            self._guard.breaker.abandoned(probe=self._probe)
        self._guard.in_progress -= 1


class ProviderGuard:
    """A provider's bulkhead and breaker. The event loop is its only user: no locks."""

    def __init__(self, limit: int, breaker: CircuitBreaker, min_timeout_s: float) -> None:
        self.limit = limit
        self.breaker = breaker
        self.min_timeout_s = min_timeout_s
        self.in_progress = 0

    def enter(self) -> Ticket | PartError:
        """A ticket for the call, or the part's error when the call is not to be made."""
        if self.breaker.state is BreakerState.OPEN:
            return self._unavailable()
        if self.in_progress >= self.limit:
            return BUSY
        admitted = self.breaker.admit()
        if admitted is False:
            return self._unavailable()
        self.in_progress += 1
        return Ticket(self, probe=admitted is None)

    def _unavailable(self) -> PartError:
        since = self.breaker.since
        when = f" since {since.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}" if since else ""
        return PartError(
            ErrorSource.SSBT,
            ServiceErrorCode.UNAVAILABLE.value,
            f"the base service has not answered{when}; it is asked again after a cool-down",
        )


BUSY = PartError(
    ErrorSource.SSBT,
    ServiceErrorCode.TOO_MANY_CALLS.value,
    "too many calls to the base service are in progress; this one was not made",
)


def guards_for(
    providers: Iterable[Provider],
    settings: GuardSettings,
    *,
    monotonic: Callable[[], float],
    now: Callable[[], dt.datetime],
) -> dict[Provider, ProviderGuard]:
    return {
        provider: ProviderGuard(
            settings.limit(provider),
            CircuitBreaker(
                failures_to_open=settings.failures_to_open,
                cool_down_s=settings.cool_down_s,
                monotonic=monotonic,
                now=now,
            ),
            settings.min_timeout_s,
        )
        for provider in providers
    }
