"""SIMULATED data providers: how a simulated base service behaves (latency and faults).

A ``SimulationProfile`` gives the latency distribution and the share of calls that fail
in each way. Faults and latencies are drawn from a generator seeded by the profile's
``seed`` (and the provider), so a run with the same seed and the same order of calls
behaves the same.
"""

from __future__ import annotations

import enum
import math
import random
from statistics import NormalDist
from typing import Any, Final, TypeAlias

import attrs

_Z99: Final = NormalDist().inv_cdf(0.99)


def _finite_non_negative(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number of seconds, 0 or more")


def _rate(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a number from 0 to 1")


@attrs.frozen
class NoLatency:
    """Answers at once."""

    def sample(self, source: random.Random) -> float:
        return 0.0


@attrs.frozen
class FixedLatency:
    """Every answer takes ``seconds``."""

    seconds: float = attrs.field(validator=_finite_non_negative)

    def sample(self, source: random.Random) -> float:
        return self.seconds


@attrs.frozen
class LogNormalLatency:
    """Log-normal latency with the given median and 99th percentile, in seconds."""

    median: float = attrs.field(validator=_finite_non_negative)
    p99: float = attrs.field(validator=_finite_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.median <= 0 or self.p99 < self.median:
            raise ValueError("log-normal latency needs 0 < median <= p99")

    def sample(self, source: random.Random) -> float:
        sigma = math.log(self.p99 / self.median) / _Z99
        return source.lognormvariate(math.log(self.median), sigma)


Latency: TypeAlias = NoLatency | FixedLatency | LogNormalLatency

NO_LATENCY: Final = NoLatency()
DEMO_LATENCY: Final = LogNormalLatency(median=0.05, p99=0.3)
"""Small, realistic latencies for demos: median 50 ms, p99 300 ms."""
SLA_LATENCY: Final = LogNormalLatency(median=0.5, p99=5.0)
"""Latencies at the edge of the service level: median 0.5 s, p99 5 s."""


class Fault(enum.Enum):
    """What goes wrong with one call, if anything."""

    NONE = "NONE"
    UNREACHABLE = "UNREACHABLE"  # BaseServiceUnreachableError
    ERROR = "ERROR"  # the provider reports a failure: BaseServiceReportedError
    HANG = "HANG"  # never answers (until cancelled)
    MALFORMED = "MALFORMED"  # answers with something unreadable: MalformedAnswerError


@attrs.frozen
class SimulationProfile:
    """Latency and fault rates of the simulated base services; all rates from 0 to 1."""

    latency: Latency = DEMO_LATENCY
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    hang_rate: float = attrs.field(default=0.0, validator=_rate)
    malformed_rate: float = attrs.field(default=0.0, validator=_rate)
    unreachable_rate: float = attrs.field(default=0.0, validator=_rate)
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        if self.error_rate + self.hang_rate + self.malformed_rate + self.unreachable_rate > 1.0:
            raise ValueError("the fault rates must add up to 1 at most")

    def draw_fault(self, source: random.Random) -> Fault:
        """The fault of the next call (one draw from ``source``)."""
        draw = source.random()
        for fault, rate in (
            (Fault.UNREACHABLE, self.unreachable_rate),
            (Fault.ERROR, self.error_rate),
            (Fault.HANG, self.hang_rate),
            (Fault.MALFORMED, self.malformed_rate),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return Fault.NONE
