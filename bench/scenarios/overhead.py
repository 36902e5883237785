"""The service's overhead with providers that take a known time: every provider answers
after exactly ``overhead_latency_s`` (``latency=fixed:<s>``), so the slowest provider's
latency is known and the overhead is the answer's latency minus it. Open loop at
``overhead_rate`` q/s, rungs L1 to L4 (L0 calls no provider)."""

from __future__ import annotations

import logging
from functools import partial

import attrs

from bench.config import Context
from bench.drive import Load, measure
from bench.scenarios.failure import Failure, attempt
from bench.scenarios.rungs import RUNGS, Rung
from bench.servers import running
from bench.stats import Latency, RunSummary

log = logging.getLogger("bench")


@attrs.frozen
class OverheadResult:
    rung: str
    provider_latency_ms: float
    run: RunSummary
    overhead: Latency


def _overhead(rung: Rung, ctx: Context) -> OverheadResult:
    seconds = ctx.profile.overhead_latency_s
    spec = rung.with_providers(f"latency=fixed:{seconds:g}")
    with running(spec, ctx) as servers:
        load = Load.open(ctx.profile.overhead_rate, ctx.profile.overhead_s)
        summary, _ = measure(
            load, servers, ctx, label=f"{rung.name} overhead, providers {seconds:g} s"
        )
    return OverheadResult(
        rung=rung.name,
        provider_latency_ms=seconds * 1000,
        run=summary,
        overhead=summary.latency.shifted(seconds * 1000),
    )


def run(ctx: Context) -> list[OverheadResult | Failure]:
    return [
        attempt(f"overhead {rung.name}", partial(_overhead, rung, ctx))
        for rung in RUNGS
        if rung.has_providers
    ]
