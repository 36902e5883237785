"""Memory: the server's resident memory with ``memory_in_flight`` queries in flight.

``ssbtek serve`` with providers that each take exactly ``memory_latency_s``
(``latency=fixed:<s>``), so every query stays in flight that long. After a warm-up, the
server's RSS is read (baseline); then ``memory_in_flight`` queries arrive within 0.5 s and
the RSS is sampled every 20 ms until all have answered (peak). In-memory store and
PostgreSQL store.
"""

from __future__ import annotations

import logging
from functools import partial

import attrs

from bench import procs
from bench.config import Context
from bench.drive import Load, measure
from bench.model import Segment
from bench.scenarios.failure import Failure, attempt
from bench.servers import ServerSpec, Store, running
from bench.stats import RunSummary

log = logging.getLogger("bench")
_MIB = 1024 * 1024
_BURST_S = 0.5


@attrs.frozen
class MemoryResult:
    store: str
    in_flight: int
    provider_latency_s: float
    baseline_mib: float
    peak_mib: float
    growth_mib: float
    kib_per_query_in_flight: float
    after_mib: float
    run: RunSummary


def _memory(ctx: Context, store: Store) -> MemoryResult:
    profile = ctx.profile
    seconds = profile.memory_latency_s
    spec = ServerSpec("service", store, via="cli", provider_options=f"latency=fixed:{seconds:g}")
    with running(spec, ctx) as servers:
        warm = Load.open(10.0, 1.0, warmup_s=0.0)
        measure(warm, servers, ctx, label=f"memory {store} warm-up")
        baseline = sum(procs.rss_bytes(pid) for pid in servers.pids)
        peak = [baseline]

        def sample() -> None:
            peak[0] = max(peak[0], sum(procs.rss_bytes(pid) for pid in servers.pids))

        burst = Load(
            mode="open",
            duration_s=_BURST_S,
            timeout_s=seconds + 20.0,
            segments=(Segment(0.0, _BURST_S, profile.memory_in_flight / _BURST_S),),
        )
        summary, _ = measure(
            burst,
            servers,
            ctx,
            label=f"memory {store} {profile.memory_in_flight} in flight",
            while_running=sample,
        )
        after = sum(procs.rss_bytes(pid) for pid in servers.pids)
    growth = peak[0] - baseline
    return MemoryResult(
        store=store,
        in_flight=profile.memory_in_flight,
        provider_latency_s=seconds,
        baseline_mib=round(baseline / _MIB, 1),
        peak_mib=round(peak[0] / _MIB, 1),
        growth_mib=round(growth / _MIB, 1),
        kib_per_query_in_flight=round(growth / 1024 / profile.memory_in_flight, 1),
        after_mib=round(after / _MIB, 1),
        run=summary,
    )


def run(ctx: Context) -> list[MemoryResult | Failure]:
    stores: tuple[Store, ...] = ("memory", "postgres")
    return [attempt(f"memory {store}", partial(_memory, ctx, store)) for store in stores]
