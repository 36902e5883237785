"""How long and how hard each scenario runs: the full suite and the ``--quick`` smoke run."""

from __future__ import annotations

from pathlib import Path

import attrs

from bench.pg import PgServer

ROOT = Path(__file__).resolve().parents[1]


@attrs.frozen
class Profile:
    name: str
    # the ladder
    closed_concurrencies: tuple[int, ...]
    closed_s: float
    warmup_s: float
    fixed_rates: tuple[float, ...]
    rate_s: tuple[float, ...]
    """Seconds at each fixed rate, in the order of ``fixed_rates``."""
    at_80_s: float
    overhead_latency_s: float
    overhead_rate: float
    overhead_s: float
    hung_rate: float
    hung_s: float
    """One provider hung: open loop of 1-subject queries, without and with the breaker."""
    # the service level
    conformance_s: float
    conformance_rate: float
    burst_at_s: float
    burst_s: float
    burst_rate: float
    # storage, replay, memory, scale-out
    storage_s: float
    storage_max_queries: int
    storage_threads: tuple[int, ...]
    replay_events: int
    replay_log_pages_events: int
    memory_in_flight: int
    memory_latency_s: float
    scale_out_processes: tuple[int, ...]
    scale_out_concurrency: int
    overload_step_s: float = 15.0
    """Past capacity (ADR 26): seconds at each multiple of the measured capacity."""
    history_sizes: tuple[int, ...] = (0, 100_000, 1_000_000, 5_000_000)
    """Events of history on PostgreSQL (the history scenario, ADR 0027)."""
    history_sqlite_sizes: tuple[int, ...] = (0, 1_000_000)


FULL = Profile(
    name="full",
    closed_concurrencies=(8, 32, 128),
    closed_s=10.0,
    warmup_s=2.0,
    fixed_rates=(3.0, 30.0, 300.0),
    rate_s=(120.0, 60.0, 20.0),
    at_80_s=20.0,
    overhead_latency_s=0.2,
    overhead_rate=30.0,
    overhead_s=30.0,
    hung_rate=5.0,
    hung_s=60.0,
    conformance_s=600.0,
    conformance_rate=3.0,
    burst_at_s=300.0,
    burst_s=60.0,
    burst_rate=30.0,
    storage_s=10.0,
    storage_max_queries=50_000,
    storage_threads=(1, 4),
    replay_events=1_000_000,
    replay_log_pages_events=20_000,
    memory_in_flight=200,
    memory_latency_s=2.0,
    scale_out_processes=(1, 2, 3, 4),
    scale_out_concurrency=64,
)

QUICK = Profile(
    name="quick",
    closed_concurrencies=(32,),
    closed_s=2.0,
    warmup_s=0.5,
    fixed_rates=(3.0, 30.0, 300.0),
    rate_s=(3.0, 2.0, 2.0),
    at_80_s=2.0,
    overhead_latency_s=0.2,
    overhead_rate=30.0,
    overhead_s=2.0,
    hung_rate=5.0,
    hung_s=15.0,
    conformance_s=20.0,
    conformance_rate=3.0,
    burst_at_s=8.0,
    burst_s=4.0,
    burst_rate=30.0,
    storage_s=1.0,
    storage_max_queries=2_000,
    storage_threads=(1, 4),
    replay_events=24_000,
    replay_log_pages_events=2_000,
    memory_in_flight=200,
    memory_latency_s=2.0,
    scale_out_processes=(1, 2),
    scale_out_concurrency=32,
    overload_step_s=3.0,
    history_sizes=(0, 100_000),
    history_sqlite_sizes=(0, 100_000),
)


@attrs.frozen
class Context:
    """What every scenario needs: the profile, a scratch directory, PostgreSQL."""

    profile: Profile
    workdir: Path
    pg: PgServer
    root: Path = ROOT
    before: Path | None = None
    """``--before TREE``: a checkout of an earlier commit, measured beside this tree where a
    scenario compares (``overload``), in the same run."""

    @property
    def quick(self) -> bool:
        return self.profile.name in ("quick", "smoke")


SMOKE = attrs.evolve(
    QUICK,
    name="smoke",
    closed_s=1.0,
    warmup_s=0.2,
    fixed_rates=(3.0, 30.0),
    rate_s=(1.0, 1.0),
    at_80_s=1.0,
)
"""The test suite's smoke run: the ladder for about a second per rung, nothing to quote."""
