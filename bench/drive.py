"""Run the load generator (``bench.loadgen``) against running servers, in its own process
pinned to its own core, and summarise what it measured."""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from bench import model, procs
from bench.config import Context
from bench.model import LoadOutcome, LoadSpec, Probe, Segment
from bench.servers import Running
from bench.stats import RunSummary, summarise

log = logging.getLogger("bench")
_SLACK_S = 90.0


def _deadline_s(spec: LoadSpec) -> float:
    return spec.warmup_s + spec.duration_s + spec.timeout_s + _SLACK_S


def run_loadgen(
    spec: LoadSpec, ctx: Context, *, while_running: Callable[[], None] | None = None
) -> LoadOutcome:
    """Run one load generator process to its end; ``while_running`` is called every 20 ms."""
    out = Path(tempfile.mkstemp(prefix="loadgen-", suffix=".json", dir=ctx.workdir)[1])
    err = out.with_suffix(".log")
    argv = procs.pinned(
        [procs.PYTHON, "-m", "bench.loadgen", model.dumps(spec)], procs.client_cpus()
    )
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            argv, cwd=ctx.root, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
        deadline = time.monotonic() + _deadline_s(spec)
        try:
            while child.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError("the load generator overran its time bound")
                if while_running is not None:
                    while_running()
                time.sleep(0.02)
        finally:
            procs.stop(child, grace_s=5)
    if child.returncode != 0:
        raise RuntimeError(f"load generator failed: {procs.tail(err, 15)}")
    return model.loads(out.read_text(), LoadOutcome)


@attrs.frozen
class Load:
    """What to send, before it is aimed at a server."""

    mode: model.Mode
    duration_s: float
    timeout_s: float = 10.0
    concurrency: int = 1
    segments: tuple[Segment, ...] = ()
    subjects_min: int = 1
    subjects_max: int = 1
    warmup_s: float = 0.0
    seed: int = 0
    channels: int = 16
    organisations: tuple[str, ...] = ()

    @classmethod
    def closed(cls, concurrency: int, duration_s: float, *, warmup_s: float = 0.0) -> Load:
        return cls("closed", duration_s, concurrency=concurrency, warmup_s=warmup_s)

    @classmethod
    def open(cls, rate_qps: float, duration_s: float, *, warmup_s: float = 0.0) -> Load:
        segment = Segment(0.0, duration_s, rate_qps)
        return cls("open", duration_s, segments=(segment,), warmup_s=warmup_s)


def measure(
    load: Load,
    servers: Running,
    ctx: Context,
    *,
    label: str,
    probe: Probe = "answer",
    while_running: Callable[[], None] | None = None,
) -> tuple[RunSummary, LoadOutcome]:
    """One run of ``load`` against ``servers``: its summary and the raw samples."""
    target = servers.target
    if probe == "soap":
        assert servers.soap_url is not None, "the servers were started without SOAP"
        target = servers.soap_url
    spec = LoadSpec(
        target=target,
        mode=load.mode,
        duration_s=load.duration_s,
        timeout_s=load.timeout_s,
        probe=probe,
        channels=load.channels,
        concurrency=load.concurrency,
        segments=load.segments,
        subjects_min=load.subjects_min,
        subjects_max=load.subjects_max,
        seed=load.seed,
        organisations=load.organisations,
        warmup_s=load.warmup_s,
        server_pids=servers.pids,
        pg_admin_conninfo=ctx.pg.conninfo() if servers.dbname else "",
        pg_dbname=servers.dbname or "",
    )
    outcome = run_loadgen(spec, ctx, while_running=while_running)
    offered = sum(s.rate_qps for s in load.segments) if load.mode == "open" else None
    summary = summarise(
        outcome,
        label=label,
        mode=load.mode,
        offered_qps=offered if len(load.segments) <= 1 else None,
        concurrency=load.concurrency if load.mode == "closed" else None,
        pg_cpu_s=outcome.pg_cpu_s,
    )
    log.info(
        "%s: %d requests, %.1f q/s, p50 %s ms, p99 %s ms, errors %s",
        label,
        summary.requests,
        summary.throughput_qps,
        summary.latency.p50_ms,
        summary.latency.p99_ms,
        summary.errors or "none",
    )
    return summary, outcome
