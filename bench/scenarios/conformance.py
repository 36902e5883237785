"""Service-level conformance (004 Bilaga 4 § 3.7.1), measured, never asserted.

The full service on PostgreSQL; providers with log-normal latencies, median 0.5 s and
p99 5 s (``latency=sla``); one provider (Migrationsverket) never answers
(``MIGRATIONSVERKET.hang_rate=1``), so every query waits for the provider deadline; 1 to 10
subjects per query (uniform, seeded); a fixed 3 q/s open loop for the whole run plus a
burst that lifts the rate to 30 q/s. Latencies are measured from the intended send time.
Reported: the share of answers within 7 s + 1.5 s per extra subject (the target for 90 %)
and within 12 s + 1.5 s per extra subject (the limit for the rest), per subject count,
in and outside the burst. A failed call counts as outside both.
"""

from __future__ import annotations

import logging

import attrs

from bench.config import Context
from bench.drive import Load, measure
from bench.model import LoadOutcome, Segment
from bench.servers import ServerSpec, running
from bench.stats import Latency, RunSummary
from domain.service_level import answer_limit, answer_target

log = logging.getLogger("bench")
HANGING_PROVIDER = "MIGRATIONSVERKET"
NO_GUARDS = (("SSBTEK_BREAKER_FAILURES", "1000000000"), ("SSBTEK_PROVIDER_PEAK_RATE", "100000"))
"""The worst case stays the worst case: the hung provider's breaker never opens and its
bulkhead never fills (ADR 20), so every query still waits for the provider deadline
(``hung_provider`` shows what the breaker changes)."""


@attrs.frozen
class Conformance:
    group: str
    answers: int
    within_target: float | None
    within_limit: float | None
    latency: Latency


@attrs.frozen
class ConformanceResult:
    duration_s: float
    base_rate_qps: float
    burst: Segment
    hanging_provider: str
    provider_options: str
    run: RunSummary
    groups: tuple[Conformance, ...]


def _share(within: list[bool]) -> float | None:
    return round(sum(within) / len(within), 4) if within else None


def _group(name: str, rows: list[tuple[float, int, str]]) -> Conformance:
    target = [
        code == "OK" and ms <= answer_target(n).total_seconds() * 1000 for ms, n, code in rows
    ]
    limit = [code == "OK" and ms <= answer_limit(n).total_seconds() * 1000 for ms, n, code in rows]
    return Conformance(
        group=name,
        answers=len(rows),
        within_target=_share(target),
        within_limit=_share(limit),
        latency=Latency.of([ms for ms, _, _ in rows]),
    )


def groups(outcome: LoadOutcome, burst: Segment) -> tuple[Conformance, ...]:
    rows = list(zip(outcome.latencies_ms, outcome.subject_counts, outcome.codes, strict=True))
    in_burst = [burst.start_s <= offset < burst.end_s for offset in outcome.offsets_s]
    found = [
        _group("all", rows),
        _group("outside the burst", [r for r, b in zip(rows, in_burst, strict=True) if not b]),
        _group("during the burst", [r for r, b in zip(rows, in_burst, strict=True) if b]),
    ]
    for subjects in range(1, 11):
        found.append(_group(f"{subjects} subject(s)", [r for r in rows if r[1] == subjects]))
    return tuple(found)


def run(ctx: Context) -> ConformanceResult:
    profile = ctx.profile
    options = f"latency=sla,seed=6,{HANGING_PROVIDER}.hang_rate=1"
    spec = ServerSpec(
        "service",
        "postgres",
        via="cli",
        provider_options=options,
        extra_env=NO_GUARDS,
    )
    burst = Segment(
        profile.burst_at_s,
        profile.burst_at_s + profile.burst_s,
        profile.burst_rate - profile.conformance_rate,
    )
    load = Load(
        mode="open",
        duration_s=profile.conformance_s,
        timeout_s=answer_limit(10).total_seconds() + 5.0,
        segments=(Segment(0.0, profile.conformance_s, profile.conformance_rate), burst),
        subjects_min=1,
        subjects_max=10,
        seed=6,
    )
    with running(spec, ctx) as servers:
        summary, outcome = measure(load, servers, ctx, label="conformance")
    return ConformanceResult(
        duration_s=profile.conformance_s,
        base_rate_qps=profile.conformance_rate,
        burst=attrs.evolve(burst, rate_qps=profile.burst_rate),
        hanging_provider=HANGING_PROVIDER,
        provider_options=options,
        run=summary,
        groups=groups(outcome, burst),
    )
