"""The ladder: per rung, maximum throughput (closed loop), server CPU per query, and
latency at fixed arrival rates (open loop: 3, 30, 300 q/s and 80 % of the maximum).
With ``latency=none`` the providers answer at once, so the latency IS the overhead."""

from __future__ import annotations

import logging
from functools import partial

import attrs

from bench.config import Context
from bench.drive import Load, measure
from bench.scenarios.failure import Failure, attempt
from bench.scenarios.rungs import RUNGS, Rung
from bench.servers import running
from bench.stats import RunSummary

log = logging.getLogger("bench")


@attrs.frozen
class RungResult:
    rung: str
    title: str
    server: str
    server_cpus: tuple[int, ...]
    probe: dict[str, int]
    sweep: tuple[RunSummary, ...]
    best: RunSummary
    fixed_rates: tuple[RunSummary, ...]
    at_80_percent: RunSummary | None


def _rung(rung: Rung, ctx: Context) -> RungResult:
    profile = ctx.profile
    log.info("ladder %s: %s", rung.name, rung.server.describe())
    with running(rung.server, ctx) as servers:
        sweep = []
        probe: dict[str, int] = {}
        for index, concurrency in enumerate(profile.closed_concurrencies):
            load = Load.closed(
                concurrency, profile.closed_s, warmup_s=profile.warmup_s if index == 0 else 0.0
            )
            summary, outcome = measure(
                load, servers, ctx, label=f"{rung.name} closed c={concurrency}", probe=rung.probe
            )
            probe = outcome.probe
            sweep.append(summary)
        best = max(sweep, key=lambda s: s.throughput_qps)
        fixed = []
        for rate, seconds in zip(profile.fixed_rates, profile.rate_s, strict=True):
            summary, _ = measure(
                Load.open(rate, seconds),
                servers,
                ctx,
                label=f"{rung.name} {rate:g} q/s",
                probe=rung.probe,
            )
            fixed.append(summary)
        at_80 = None
        if best.throughput_qps > 0:
            rate = round(0.8 * best.throughput_qps, 1)
            at_80, _ = measure(
                Load.open(rate, profile.at_80_s),
                servers,
                ctx,
                label=f"{rung.name} 80 % = {rate:g} q/s",
                probe=rung.probe,
            )
        return RungResult(
            rung=rung.name,
            title=rung.title,
            server=rung.server.describe(),
            server_cpus=servers.cpus,
            probe=probe,
            sweep=tuple(sweep),
            best=best,
            fixed_rates=tuple(fixed),
            at_80_percent=at_80,
        )


def run(ctx: Context) -> list[RungResult | Failure]:
    return [attempt(f"ladder {rung.name}", partial(_rung, rung, ctx)) for rung in RUNGS]
