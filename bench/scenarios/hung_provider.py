"""One provider hung (issue 26, ADR 20): a 1-subject query's latency without and with the
circuit breaker, side by side in one run.

Arbetsförmedlingen never answers (``ARBETSFORMEDLINGEN.hang_rate=1``); the other seven
answer with the demo latency. Open loop at ``hung_rate`` q/s for ``hung_s`` seconds on the
full service (in-memory store, so the providers are what is measured), twice:

- **before**: the breaker never opens and the bulkhead never fills (``NO_GUARDS``), as
  before ADR 20: every query waits the whole budget (5.6 s for one subject) for the hung provider;
- **after**: the defaults: after 5 time-outs the breaker opens, and the hung provider's part
  says SSBT ``UNAVAILABLE`` at once; one probe every cool-down still waits the budget.
"""

from __future__ import annotations

from functools import partial

import attrs

from bench.config import Context
from bench.drive import Load, measure
from bench.scenarios.conformance import NO_GUARDS
from bench.scenarios.failure import Failure, attempt
from bench.scenarios.rungs import rung
from bench.servers import running
from bench.stats import RunSummary

CASES = (("before", NO_GUARDS), ("after", ()))


@attrs.frozen
class HungProviderResult:
    case: str
    run: RunSummary


def _case(name: str, env: tuple[tuple[str, str], ...], ctx: Context) -> HungProviderResult:
    spec = attrs.evolve(
        rung("L2").with_providers("latency=demo,ARBETSFORMEDLINGEN.hang_rate=1"), extra_env=env
    )
    with running(spec, ctx) as servers:
        load = attrs.evolve(Load.open(ctx.profile.hung_rate, ctx.profile.hung_s), timeout_s=15.0)
        summary, _ = measure(load, servers, ctx, label=f"one provider hung, {name}")
    return HungProviderResult(name, summary)


def run(ctx: Context) -> list[HungProviderResult | Failure]:
    return [attempt(f"hung provider {name}", partial(_case, name, env, ctx)) for name, env in CASES]
