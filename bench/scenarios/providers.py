"""The full service with the ``v10`` adapters over the wire beside the in-process simulated
providers, in one run: the same open-loop load (a third of ``overhead_rate``, 10 q/s, for
``overhead_s``)
against rung L2 (``ssbtek serve``, in-memory store) twice, once with ``--providers
simulated`` and once with ``--providers v10`` talking to ``ssbtek simulate-providers`` on
this machine, both with ``latency=none``. The difference is the cost of the wire: eight
HTTP exchanges per subject, SOAP envelopes and Lefi JSON written and read. The
simulators stand in for eight other organisations' servers; their CPU is reported apart."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Literal

import attrs

from bench import procs
from bench.config import Context
from bench.drive import Load, measure
from bench.scenarios.failure import Failure, attempt
from bench.scenarios.rungs import rung
from bench.servers import running
from bench.stats import RunSummary

Providers = Literal["simulated", "v10"]
_READY = "simulated base services (v10 contracts) on"


@attrs.frozen
class ProvidersResult:
    providers: Providers
    run: RunSummary
    simulators_cpu_ms_per_query: float | None


@contextmanager
def simulators(ctx: Context) -> Iterator[tuple[str, int]]:
    """``ssbtek simulate-providers`` on a free port: its URL and its process id."""
    scratch = Path(tempfile.mkdtemp(prefix="simulators-", dir=ctx.workdir))
    log_path, port = scratch / "simulators.log", procs.free_port()
    argv = [str(Path(procs.PYTHON).parent / "ssbtek"), "simulate-providers"]
    argv += ["--listen", f"127.0.0.1:{port}", "--options", "latency=none"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("SSBTEK_")}
    process = procs.spawn(argv, cpus=procs.server_cpus(1), env=env, log_path=log_path, cwd=ctx.root)
    try:
        until = time.monotonic() + 60
        while _READY not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > until:
                raise RuntimeError(f"simulate-providers did not start: {log_path}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        procs.stop(process)


def _run(providers: Providers, ctx: Context) -> ProvidersResult:
    base = rung("L2").server
    load = Load.open(ctx.profile.overhead_rate / 3, ctx.profile.overhead_s)
    label = f"L2 with {providers} providers"
    if providers == "simulated":
        with running(attrs.evolve(base, provider_options="latency=none"), ctx) as servers:
            summary, _ = measure(load, servers, ctx, label=label)
        return ProvidersResult(providers, summary, None)
    with simulators(ctx) as (url, pid):
        spec = attrs.evolve(
            base, provider_options=f"url={url}", extra_env=(("SSBTEK_PROVIDERS", "v10"),)
        )
        with running(spec, ctx) as servers:
            before = procs.cpu_seconds(pid)
            summary, _ = measure(load, servers, ctx, label=label)
            spent = procs.cpu_seconds(pid) - before
    per_query = spent * 1000 / summary.requests if summary.requests else None
    return ProvidersResult(providers, summary, per_query)


def run(ctx: Context) -> list[ProvidersResult | Failure]:
    return [
        attempt(f"providers {providers}", partial(_run, providers, ctx))
        for providers in ("simulated", "v10")
    ]
