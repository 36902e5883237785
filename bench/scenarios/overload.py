"""Past capacity (issue 25, ADR 26): goodput, refusal latency and admitted latency from half
to ten times the measured capacity, several organisations, the rate limit off.

One server, the full service on SQLite (``bench.launcher --rung service``, with
``ORGANISATIONS`` municipalities connected besides the demo one) and the simulated providers
with the demo latency (median 50 ms), so a query holds its slot while it waits, as in
production. First its capacity: the most answered queries a second in a closed loop at the
profile's concurrencies. Then an open loop at each multiple of that capacity, the asking
organisations taken in turn, every call with a 10 s deadline: per step the goodput
(answered a second), the refusals (``RESOURCE_EXHAUSTED``) and their latency, the answered
calls' latency, and anything else that came back (there should be nothing: no
``CANCELLED``). A plot of goodput against offered load is written beside the results.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Final

import attrs

from bench import procs
from bench.config import Context
from bench.drive import Load, measure
from bench.model import LoadOutcome
from bench.scenarios.failure import Failure, attempt
from bench.servers import ServerSpec, running
from bench.stats import Latency
from bench.workload import organisations

log = logging.getLogger("bench")
ORGANISATIONS: Final = 8
MULTIPLES: Final = (0.5, 1.0, 2.0, 5.0, 10.0)
SERVER: Final = ServerSpec(
    "service",
    "sqlite",
    via="launcher",
    provider_options="latency=demo",
    organisations=ORGANISATIONS,
)
REFUSED: Final = "RESOURCE_EXHAUSTED"
CAPACITY_CONCURRENCIES: Final = (64, 256)
"""Closed-loop callers when measuring capacity: a query waits ~50-300 ms for its providers,
so it takes many callers to keep the server busy."""


@attrs.frozen
class Step:
    multiple: float
    offered_qps: float
    sent: int
    answered: int
    refused: int
    other: dict[str, int]
    """Any other outcome, by gRPC code (``CANCELLED`` would be a server that cancels)."""
    window_s: float
    goodput_qps: float
    goodput_share: float
    """Goodput over the measured capacity."""
    refusal: Latency
    admitted: Latency
    max_send_lag_ms: float
    client_cpu_share: float
    other_cpu_share: float


@attrs.frozen
class OverloadResult:
    tree: str
    """``this tree``, or ``before: <path> (<commit>)`` (``--before``)."""
    server: str
    server_cpus: tuple[int, ...]
    organisations: int
    capacity_qps: float
    capacity_concurrency: int
    steps: tuple[Step, ...]
    plot: str | None


def _step(multiple: float, offered: float, capacity: float, outcome: LoadOutcome) -> Step:
    codes = Counter(outcome.codes)
    answered, refused = codes.pop("OK", 0), codes.pop(REFUSED, 0)
    by_code: dict[str, list[float]] = {"OK": [], REFUSED: []}
    for code, latency in zip(outcome.codes, outcome.latencies_ms, strict=True):
        if code in by_code:
            by_code[code].append(latency)
    window = max(outcome.window_s, 1e-9)
    goodput = answered / window
    ours = outcome.server_cpu_s + outcome.client_cpu_s
    return Step(
        multiple=multiple,
        offered_qps=round(offered, 1),
        sent=outcome.sent,
        answered=answered,
        refused=refused,
        other=dict(codes),
        window_s=round(window, 3),
        goodput_qps=round(goodput, 1),
        goodput_share=round(goodput / capacity, 3) if capacity else 0.0,
        refusal=Latency.of(by_code[REFUSED]),
        admitted=Latency.of(by_code["OK"]),
        max_send_lag_ms=outcome.max_send_lag_ms,
        client_cpu_share=round(outcome.client_cpu_s / window, 3),
        other_cpu_share=round((outcome.machine_cpu_s - ours) / window, 3),
    )


def _plot(result: OverloadResult, ctx: Context) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover (a dependency of the project)
        return None
    offered = [s.offered_qps for s in result.steps]
    goodput = [s.goodput_qps for s in result.steps]
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    axes.plot(offered, goodput, marker="o", label="goodput (answered/s)")
    axes.axhline(result.capacity_qps, linestyle="--", color="grey", label="measured capacity")
    axes.axhline(0.9 * result.capacity_qps, linestyle=":", color="grey", label="0.9 x capacity")
    axes.set_xscale("log")
    axes.set_xticks(offered, [f"{s.multiple:g}x\n{s.offered_qps:.0f}" for s in result.steps])
    axes.minorticks_off()
    axes.set_xlabel("offered load (multiple of capacity, queries/s; log scale)")
    axes.set_ylabel("answered queries/s")
    axes.set_title(f"Goodput past capacity ({ctx.profile.name} profile)")
    axes.legend(loc="lower right")
    axes.grid(True, which="both", alpha=0.3)
    out = ctx.root / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(out, f"{stamp}-overload.png")
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return str(path)


def _measure(ctx: Context, tree: Path | None) -> OverloadResult:
    profile = ctx.profile
    asking = (*organisations(ORGANISATIONS),)
    spec, side = SERVER, "this tree"
    if tree is not None:  # its code first on PYTHONPATH, as bench.compare does
        spec = attrs.evolve(SERVER, extra_env=(("PYTHONPATH", str(tree.resolve())),))
        side = f"before: {tree} ({procs.git_state(tree)['commit']})"
    log.info("overload (%s): %s", side, spec.describe())
    with running(spec, ctx) as servers:
        best_qps, best_concurrency = 0.0, 0
        for index, concurrency in enumerate(CAPACITY_CONCURRENCIES):
            load = attrs.evolve(
                Load.closed(
                    concurrency,
                    profile.closed_s,
                    warmup_s=profile.warmup_s if index == 0 else 0.0,
                ),
                organisations=asking,
            )
            summary, _ = measure(load, servers, ctx, label=f"capacity c={concurrency}")
            if summary.throughput_qps > best_qps:
                best_qps, best_concurrency = summary.throughput_qps, concurrency
        steps = []
        for multiple in MULTIPLES:
            offered = multiple * best_qps
            load = attrs.evolve(Load.open(offered, profile.overload_step_s), organisations=asking)
            _, outcome = measure(load, servers, ctx, label=f"{multiple:g} x capacity")
            steps.append(_step(multiple, offered, best_qps, outcome))
            log.info(
                "%g x: goodput %.1f q/s (%.2f), refused %d, other %s",
                multiple,
                steps[-1].goodput_qps,
                steps[-1].goodput_share,
                steps[-1].refused,
                steps[-1].other or "none",
            )
        cpus = servers.cpus
    result = OverloadResult(
        tree=side,
        server=spec.describe(),
        server_cpus=cpus,
        organisations=ORGANISATIONS,
        capacity_qps=round(best_qps, 1),
        capacity_concurrency=best_concurrency,
        steps=tuple(steps),
        plot=None,
    )
    return attrs.evolve(result, plot=_plot(result, ctx))


def run(ctx: Context) -> list[OverloadResult | Failure]:
    """This tree; with ``--before TREE`` that tree first, the same steps, the same run."""
    trees = ([ctx.before] if ctx.before is not None else []) + [None]
    return [
        attempt(f"overload {tree or 'this tree'}", partial(_measure, ctx, tree)) for tree in trees
    ]
