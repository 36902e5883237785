"""``python -m bench.compare``: before and after a change, on the same machine, side by side.

For the profile-and-fix loop of the benchmarks (``bench/README.md``): each chosen server
runs for ``--seconds`` (after a warm-up), once per tree and variant and ``--rounds``
times, alternating, so a slow minute of the machine hurts every side alike. Closed loop
(``--concurrency`` callers) by default: throughput, server CPU per query and PostgreSQL's
CPU per query. With ``--rate R``, open loop at R queries per second instead, latency from
the intended send time: p50, p99 and p99.9 beside the CPU figures.

A tree is a checkout of this repository (``git worktree add /tmp/before <commit>``): its
code is put first on ``PYTHONPATH`` for the servers, so the same installed environment
runs the older code. ``--env KEY=VALUE`` adds a service variable for every run (for
example ``SSBTEK_ACCESS_DECISION_TTL=0``); ``--variant KEY=VALUE[,KEY=VALUE...]`` adds a
side that runs with those variables, beside the side without them (for example
``--variant SSBTEK_SINGLETONS=off``). Not a log level above INFO: the suite learns that a
server is up from its INFO line ``serving on``. Nothing is asserted; the figures are
printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import drive, pg, servers, stats
from bench.config import QUICK, ROOT, Context

log = logging.getLogger("bench")


def _spec(rung: str, tree: Path, extra_env: dict[str, str]) -> servers.ServerSpec:
    paths = [str(tree.resolve()), os.environ.get("PYTHONPATH", "")]
    env = {**extra_env, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    try:
        return servers.ServerSpec.parse(rung, tuple(sorted(env.items())))
    except ValueError as error:
        raise SystemExit(str(error)) from None


def _variables(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if item)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("servers", nargs="+", help="KIND/STORE, e.g. proxy/memory service/postgres")
    parser.add_argument("--tree", type=Path, action="append", default=[], help="a checkout")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, help="open loop at this many q/s")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the servers")
    parser.add_argument("--variant", action="append", default=[], help="KEY=VALUE[,...]")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    trees = args.tree or [ROOT]
    extra = _variables(",".join(args.env))
    variants = ["", *args.variant]
    for variables in (extra, *map(_variables, variants)):
        if variables.get("SSBTEK_LOG_LEVEL", "INFO").upper() not in ("DEBUG", "INFO"):
            parser.error(
                "SSBTEK_LOG_LEVEL above INFO hides the 'serving on' line the suite waits for"
            )
    if args.rate is None:
        load = drive.Load.closed(args.concurrency, args.seconds, warmup_s=2.0)
    else:
        load = drive.Load.open(args.rate, args.seconds, warmup_s=2.0)
    workdir = Path(tempfile.mkdtemp(prefix="ssbtek-compare-"))
    ctx = Context(profile=QUICK, workdir=workdir, pg=pg.PgServer())
    results: dict[tuple[str, Path, str], list[tuple[float, ...]]] = {}
    try:
        for _ in range(args.rounds):
            for rung in args.servers:
                for tree in trees:
                    for variant in variants:
                        spec = _spec(rung, tree, {**extra, **_variables(variant)})
                        with servers.running(spec, ctx) as run:
                            summary, _ = drive.measure(load, run, ctx, label=f"{rung} {tree}")
                        results.setdefault((rung, tree, variant), []).append(_figures(summary))
    finally:
        shutil.rmtree(ctx.workdir, ignore_errors=True)
    lines = [
        "| server | tree | variant | q/s (median) | server CPU ms/query "
        "| PostgreSQL CPU ms/query | p50 ms | p99 ms | p99.9 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (rung, tree, variant), runs in results.items():
        medians = [statistics.median(column) for column in zip(*runs, strict=True)]
        shown = " | ".join(
            f"{value:.2f}" if i else f"{value:.1f}" for i, value in enumerate(medians)
        )
        lines.append(f"| {rung} | {tree} | {variant or '-'} | {shown} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _figures(summary: stats.RunSummary) -> tuple[float, ...]:
    latency = summary.latency
    return (
        summary.throughput_qps,
        summary.server_cpu_ms_per_query or 0.0,
        summary.pg_cpu_ms_per_query or 0.0,
        latency.p50_ms or 0.0,
        latency.p99_ms or 0.0,
        latency.p999_ms or 0.0,
    )


if __name__ == "__main__":
    raise SystemExit(main())
