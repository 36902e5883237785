"""Scale-out on one machine: N server processes of a rung sharing one port with
``SO_REUSEPORT``, closed loop, measured for every N, never assumed. The full service runs
as ``ssbtek serve --workers N`` when this tree's ``ssbtek serve`` has ``--workers``, else
as N ``bench.launcher --reuse-port`` processes (see ``server_for``). The
kernel spreads the client's connections over the processes, so the load generator opens
several (``Load.channels``); each process's share of the server CPU shows how evenly it
did."""

from __future__ import annotations

import logging
from functools import partial

import attrs

from bench import procs
from bench.config import Context
from bench.drive import Load, measure
from bench.scenarios.failure import Failure, attempt
from bench.scenarios.rungs import RUNGS, Rung
from bench.servers import ServerSpec, running, serve_has_workers
from bench.stats import RunSummary

log = logging.getLogger("bench")


@attrs.frozen
class ScaleOutResult:
    rung: str
    processes: int
    server: str
    server_cpus: tuple[int, ...]
    run: RunSummary
    cpu_share_by_process: tuple[float, ...]


def server_for(rung: Rung, processes: int) -> ServerSpec:
    """``ssbtek serve --workers N`` for the full service on SQLite and PostgreSQL when
    this tree has it, else N launcher processes (always for L0 and L1, and for the
    in-memory store: ``--workers`` seeds the demo municipality into the parent's memory
    only, so its workers refuse every query with ORGANISATION_NOT_CONNECTED)."""
    if rung.server.via == "cli" and rung.server.store != "memory" and serve_has_workers():
        return attrs.evolve(rung.server, processes=processes)
    return rung.as_launcher(processes)


def _scale_out(rung: Rung, processes: int, ctx: Context) -> ScaleOutResult:
    profile = ctx.profile
    spec = server_for(rung, processes)
    with running(spec, ctx) as servers:
        before = [procs.cpu_seconds(pid) for pid in servers.serving_pids]
        load = Load.closed(
            profile.scale_out_concurrency, profile.closed_s, warmup_s=profile.warmup_s
        )
        summary, _ = measure(
            load, servers, ctx, label=f"{rung.name} x{processes} processes", probe=rung.probe
        )
        spent = [
            procs.cpu_seconds(pid) - b for pid, b in zip(servers.serving_pids, before, strict=True)
        ]
    total = sum(spent) or 1.0
    return ScaleOutResult(
        rung=rung.name,
        processes=processes,
        server=spec.describe(),
        server_cpus=servers.cpus,
        run=summary,
        cpu_share_by_process=tuple(round(s / total, 2) for s in spent),
    )


def run(ctx: Context) -> list[ScaleOutResult | Failure]:
    return [
        attempt(f"scale-out {rung.name} x{n}", partial(_scale_out, rung, n, ctx))
        for rung in RUNGS
        for n in ctx.profile.scale_out_processes
    ]
