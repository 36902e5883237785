"""The v10 SOAP facade beside gRPC, on ONE ``ssbtek serve`` (in-memory store, providers
answering at once) serving both: the same query through each entry point, closed loop
at each concurrency of the profile (the maximum) and open loop at 30 q/s. The adapter's
overhead per query is the SOAP figure minus the gRPC one: server CPU ms per query and
p50 latency, measured in the same run on the same process."""

from __future__ import annotations

import logging
from typing import Final

import attrs

from bench.config import Context
from bench.drive import Load, measure
from bench.model import Probe
from bench.scenarios.failure import Failure, attempt
from bench.servers import ServerSpec, running
from bench.stats import RunSummary

log = logging.getLogger("bench")
RATE_QPS: Final = 30.0
SERVER: Final = ServerSpec("service", "memory", via="cli", soap=True)
ENTRY_POINTS: Final[tuple[tuple[str, Probe], ...]] = (("gRPC", "answer"), ("SOAP v10", "soap"))


@attrs.frozen
class EntryPointRun:
    entry_point: str
    probe: dict[str, int]
    best: RunSummary
    at_rate: RunSummary


@attrs.frozen
class SoapResult:
    server: str
    server_cpus: tuple[int, ...]
    runs: tuple[EntryPointRun, ...]
    cpu_ms_per_query_overhead: float | None
    """SOAP minus gRPC, server CPU ms per query at the maximum."""
    p50_ms_overhead: float | None
    """SOAP minus gRPC, p50 latency at 30 q/s."""
    throughput_ratio: float | None
    """SOAP's maximum q/s over gRPC's."""


def _difference(a: float | None, b: float | None) -> float | None:
    return round(a - b, 3) if a is not None and b is not None else None


def _measure(ctx: Context) -> SoapResult:
    profile = ctx.profile
    seconds = dict(zip(profile.fixed_rates, profile.rate_s, strict=True)).get(RATE_QPS, 2.0)
    log.info("soap: %s", SERVER.describe())
    runs = []
    with running(SERVER, ctx) as servers:
        for name, probe in ENTRY_POINTS:
            sweep = []
            checked: dict[str, int] = {}
            for index, concurrency in enumerate(profile.closed_concurrencies):
                warmup = profile.warmup_s if index == 0 else 0.0
                summary, outcome = measure(
                    Load.closed(concurrency, profile.closed_s, warmup_s=warmup),
                    servers,
                    ctx,
                    label=f"{name} closed c={concurrency}",
                    probe=probe,
                )
                checked = outcome.probe
                sweep.append(summary)
            at_rate, _ = measure(
                Load.open(RATE_QPS, seconds),
                servers,
                ctx,
                label=f"{name} {RATE_QPS:g} q/s",
                probe=probe,
            )
            best = max(sweep, key=lambda s: s.throughput_qps)
            runs.append(EntryPointRun(name, checked, best, at_rate))
    grpc, soap = runs
    ratio = (
        round(soap.best.throughput_qps / grpc.best.throughput_qps, 2)
        if grpc.best.throughput_qps
        else None
    )
    return SoapResult(
        server=SERVER.describe(),
        server_cpus=servers.cpus,
        runs=tuple(runs),
        cpu_ms_per_query_overhead=_difference(
            soap.best.server_cpu_ms_per_query, grpc.best.server_cpu_ms_per_query
        ),
        p50_ms_overhead=_difference(soap.at_rate.latency.p50_ms, grpc.at_rate.latency.p50_ms),
        throughput_ratio=ratio,
    )


def run(ctx: Context) -> list[SoapResult | Failure]:
    return [attempt("soap", lambda: _measure(ctx))]
