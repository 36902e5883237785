"""From a load generator's raw samples to the figures the report shows.

Percentiles are nearest-rank over EVERY request of the run, failed ones included (at
the latency they failed with), so errors and time-outs cannot flatter the tail; the
error counts stand beside them. A percentile needs enough samples to mean anything
(p99.9 wants at least 1000): ``requests`` is always reported with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import attrs

from bench.model import LoadOutcome

QUEUE_GROWTH_MS = 50.0


def percentile(sorted_values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile of already sorted values; ``None`` when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _fifths(outcome: LoadOutcome) -> tuple[list[float], list[float]]:
    by_send = [
        latency for _, latency in sorted(zip(outcome.offsets_s, outcome.latencies_ms, strict=True))
    ]
    fifth = len(by_send) // 5
    return by_send[:fifth], by_send[-fifth:] if fifth else []


def _first_fifth_median(outcome: LoadOutcome) -> float:
    first, _ = _fifths(outcome)
    return percentile(sorted(first), 0.5) or 0.0


def _others(outcome: LoadOutcome) -> float:
    ours = outcome.server_cpu_s + outcome.client_cpu_s + (outcome.pg_cpu_s or 0.0)
    return outcome.machine_cpu_s - ours


def queue_growth(outcome: LoadOutcome) -> float | None:
    """Median latency of the last fifth of the sends minus that of the first fifth."""
    first, last = _fifths(outcome)
    early, late = percentile(sorted(first), 0.5), percentile(sorted(last), 0.5)
    if early is None or late is None:
        return None
    return round(late - early, 3)


@attrs.frozen
class Latency:
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None
    mean_ms: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Latency:
        ordered = sorted(values)
        return cls(
            p50_ms=percentile(ordered, 0.50),
            p90_ms=percentile(ordered, 0.90),
            p99_ms=percentile(ordered, 0.99),
            p999_ms=percentile(ordered, 0.999),
            max_ms=ordered[-1] if ordered else None,
            mean_ms=round(sum(ordered) / len(ordered), 3) if ordered else None,
        )

    def shifted(self, by_ms: float) -> Latency:
        """Every figure minus ``by_ms`` (the slowest provider's fixed latency)."""

        def minus(value: float | None) -> float | None:
            return None if value is None else round(value - by_ms, 3)

        return Latency(
            minus(self.p50_ms),
            minus(self.p90_ms),
            minus(self.p99_ms),
            minus(self.p999_ms),
            minus(self.max_ms),
            minus(self.mean_ms),
        )


@attrs.frozen
class RunSummary:
    label: str
    mode: str
    offered_qps: float | None
    concurrency: int | None
    requests: int
    ok: int
    errors: dict[str, int]
    window_s: float
    throughput_qps: float
    """Answered (OK) requests per second over the measured window."""
    latency: Latency
    server_cpu_ms_per_query: float | None
    pg_cpu_ms_per_query: float | None
    client_cpu_share: float
    """The load generator's CPU time over the window: 1.0 is one core fully busy, when
    the generator itself may be the limit."""
    other_cpu_share: float
    """CPU (user + system) the rest of the machine used over the window, in cores: every
    process minus the servers, the load generator and PostgreSQL's backends for this run.
    It includes PostgreSQL's own background writers; well above that, other work shared
    the machine and the run's figures are pessimistic."""
    max_send_lag_ms: float
    queue_growth_ms: float | None
    """Open loop: median latency of the last fifth of the sends minus that of the first
    fifth; a queue building up inside the server shows here."""
    overloaded: bool
    """Open loop: an error, or a queue that grew by more than 50 ms and more than the
    first fifth's median latency."""


def summarise(
    outcome: LoadOutcome,
    *,
    label: str,
    mode: str,
    offered_qps: float | None = None,
    concurrency: int | None = None,
    pg_cpu_s: float | None = None,
) -> RunSummary:
    codes = Counter(outcome.codes)
    ok = codes.pop("OK", 0)
    window = outcome.window_s
    throughput = ok / window if window > 0 else 0.0
    growth = queue_growth(outcome) if offered_qps is not None else None
    overloaded = offered_qps is not None and (
        bool(codes)
        or len(outcome.codes) < outcome.sent
        or (growth is not None and growth > max(QUEUE_GROWTH_MS, _first_fifth_median(outcome)))
    )
    return RunSummary(
        label=label,
        mode=mode,
        offered_qps=offered_qps,
        concurrency=concurrency,
        requests=len(outcome.codes),
        ok=ok,
        errors=dict(codes),
        window_s=round(window, 3),
        throughput_qps=round(throughput, 1),
        latency=Latency.of(outcome.latencies_ms),
        server_cpu_ms_per_query=round(outcome.server_cpu_s * 1000 / ok, 3) if ok else None,
        pg_cpu_ms_per_query=round(pg_cpu_s * 1000 / ok, 3) if ok and pg_cpu_s is not None else None,
        client_cpu_share=round(outcome.client_cpu_s / window, 2) if window > 0 else 0.0,
        other_cpu_share=round(max(0.0, _others(outcome)) / window, 2) if window > 0 else 0.0,
        max_send_lag_ms=outcome.max_send_lag_ms,
        queue_growth_ms=growth,
        overloaded=overloaded,
    )
