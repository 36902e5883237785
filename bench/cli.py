"""``python -m bench [--quick] [--only ...]``: run the suite, write JSON and Markdown.

Results go to ``bench/results/<UTC timestamp>.json`` and ``.md`` (never tracked). The JSON
is rewritten after every scenario, so a run that dies still leaves what it measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import attrs
import cattrs

from bench import audit_rows, pg, procs
from bench.audit_rows import Template
from bench.config import FULL, QUICK, ROOT, SMOKE, Context
from bench.report import render
from bench.scenarios import (
    accept_path,
    conformance,
    history,
    hung_provider,
    ladder,
    memory,
    overhead,
    overload,
    providers,
    replay,
    scale_out,
    soap,
    storage,
)
from bench.scenarios.failure import attempt
from infrastructure.settings import Settings

log = logging.getLogger("bench")
SCENARIOS: Final = (
    "ladder",
    "soap",
    "overhead",
    "hung_provider",
    "overload",
    "accept_path",
    "providers",
    "scale_out",
    "memory",
    "conformance",
    "storage",
    "replay",
    "history",
)
_converter = cattrs.Converter()


def _host() -> dict[str, object]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(pages / 2**30, 1),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "packages": {
            name: metadata.version(name)
            for name in ("grpcio", "protobuf", "eventsourcing", "psycopg")
        },
    }


def _service_defaults() -> str:
    defaults = Settings()
    names = (
        "rate_limit",
        "max_in_flight",
        "admission_delay_target_s",
        "access_decision_ttl_s",
        "budget_fraction",
        "log_level",
        "log_format",
    )
    return ", ".join(
        f"{name}={getattr(defaults, name)!r}" for name in names if hasattr(defaults, name)
    )


def _meta(ctx: Context) -> dict[str, Any]:
    return {
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "profile": attrs.asdict(ctx.profile),
        "host": _host(),
        "git": procs.git_state(ROOT),
        "postgres": attempt("postgres settings", lambda: pg.settings(ctx.pg)),
        "client_cpus": sorted(procs.client_cpus()),
        "server_cpus_one_process": sorted(procs.server_cpus(1)),
        "service_defaults": _service_defaults(),
    }


class Suite:
    """Runs the chosen scenarios one after the other, saving after each."""

    def __init__(self, ctx: Context, out: Path) -> None:
        self.ctx = ctx
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.json_path = out / f"{stamp}.json"
        self.md_path = out / f"{stamp}.md"
        self.result: dict[str, Any] = {"meta": _meta(ctx)}
        self._template: Template | None = None

    def template(self) -> Template:
        if self._template is None:
            self._template = audit_rows.capture(self.ctx)
        return self._template

    def _save(self) -> None:
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps(_converter.unstructure(self.result), indent=1))

    def _storage(self) -> dict[str, Any]:
        template = self.template()
        return {"template": template.describe(), "results": storage.run(self.ctx, template)}

    def run(self, chosen: Sequence[str]) -> None:
        steps: dict[str, Callable[[], object]] = {
            "ladder": lambda: ladder.run(self.ctx),
            "soap": lambda: soap.run(self.ctx),
            "overhead": lambda: overhead.run(self.ctx),
            "hung_provider": lambda: hung_provider.run(self.ctx),
            "overload": lambda: overload.run(self.ctx),
            "accept_path": lambda: accept_path.run(self.ctx),
            "providers": lambda: providers.run(self.ctx),
            "scale_out": lambda: scale_out.run(self.ctx),
            "memory": lambda: memory.run(self.ctx),
            "conformance": lambda: conformance.run(self.ctx),
            "storage": self._storage,
            "replay": lambda: replay.run(self.ctx, self.template()),
            "history": lambda: history.run(self.ctx, self.template()),
        }
        for name in SCENARIOS:
            if name in chosen:
                log.info("scenario %s", name)
                self.result[name] = attempt(name, steps[name])
                self._save()
        self.result["meta"]["host"]["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        self.result["meta"]["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._save()
        self.md_path.write_text(render(json.loads(self.json_path.read_text())))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smoke durations (minutes, not an hour)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="about a second per rung (the test suite's check)"
    )
    parser.add_argument(
        "--only", help=f"comma-separated scenarios, of: {', '.join(SCENARIOS)} (default: all)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier commit (git worktree add); overload measures it too",
    )
    default_pg = pg.PgServer()
    parser.add_argument("--pg-host", default=default_pg.host)
    parser.add_argument("--pg-port", type=int, default=default_pg.port)
    parser.add_argument("--pg-user", default=default_pg.user)
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",")] if args.only else list(SCENARIOS)
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    workdir = Path(tempfile.mkdtemp(prefix="ssbtek-bench-"))
    ctx = Context(
        profile=SMOKE if args.smoke else QUICK if args.quick else FULL,
        workdir=workdir,
        pg=pg.PgServer(host=args.pg_host, port=args.pg_port, user=args.pg_user),
        before=args.before,
    )
    suite = Suite(ctx, args.out)
    try:
        suite.run(chosen)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log.info("wrote %s and %s", suite.json_path, suite.md_path)
    return 0
