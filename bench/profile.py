"""``python -m bench.profile KIND/STORE``: where one server's CPU goes, under closed-loop load.

The profile-and-fix loop of ``bench/README.md``. The server of a rung runs as in the
ladder; a closed loop drives it for ``--seconds`` while ``py-spy`` (``make profile``
installs it) samples the serving process, only the thread holding the GIL (``--gil``),
so each sample is Python CPU, not waiting. The raw stacks are written to ``--out`` (for a
flame graph) and summed here into the service's parts: each sample is counted once, in
the innermost part its stack passes through, so nested parts (a provider call inside the
fan-out) are not counted twice. What no part claims is gRPC's C core, the event loop and
the glue between; its heaviest stacks are listed. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bench import drive, pg, servers
from bench.config import QUICK, ROOT, Context

log = logging.getLogger("bench")

PARTS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("simulated providers (L1 does the same)", ("SimulatedBaseService.fetch",)),
    ("answer to protobuf (L1 does the same)", ("answer_to_proto",)),
    ("request to command", ("query_command (adapters/grpc/translation",)),
    ("validation", ("validate (application/validation",)),
    ("audit saves: mapping and store (worker thread)", ("GroupCommit._commit",)),
    (
        "audit save scheduling (store gate, group commit)",
        ("Queries._receive", "Queries._save", "GroupCommit.save", "GroupCommit._write"),
    ),
    ("compiling and domain events", ("compile_answer", "Query.deliver", "Query.erase_case_data")),
    ("metrics", ("PrometheusMetrics",)),
    ("logging", ("Logger.info", "Logger.handle", "Logger._log")),
    ("access decision", ("Queries._decide_access", "Parties.decide")),
    ("incidents follower", ("Incidents.process_queries",)),
    ("fan-out tasks and time limits", ("FanOut.run", "FanOut._call", "FanOutProxy")),
    ("pseudonym and query id", ("HmacPseudonymiser", "Queries._query_id")),
)
OTHER: Final = "other: gRPC core, event loop, servicer glue"


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: `make profile` installs it")
    return found


def summarise(raw: Path, heaviest: int = 8) -> list[str]:
    """Markdown lines: the share of samples per part, then the heaviest unclaimed stacks."""
    parts: collections.Counter[str] = collections.Counter()
    unclaimed: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        part = next(
            (
                name
                for frame in reversed(frames)
                for name, markers in PARTS
                if any(marker in frame for marker in markers)
            ),
            None,
        )
        if part is None:
            parts[OTHER] += count
            unclaimed[";".join(re.sub(r" \(.*", "", f) for f in frames[-2:])] += count
        else:
            parts[part] += count
    if not total:
        return ["no samples"]
    lines = [f"{total} samples", "", "| part | share of samples |", "| --- | --- |"]
    lines += [f"| {name} | {count * 100 / total:.1f} % |" for name, count in parts.most_common()]
    lines += ["", f"Heaviest stacks in {OTHER!r} (last two frames):", ""]
    lines += [
        f"- {count * 100 / total:.1f} % {stack}" for stack, count in unclaimed.most_common(heaviest)
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("server", help="KIND/STORE: proxy/memory, service/memory, service/postgres")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, help="raw stacks (default: bench/results/...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        spec = servers.ServerSpec.parse(args.server)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    py_spy = _py_spy()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"profile-{spec.kind}-{spec.store}-{stamp}.txt"
    out: Path = args.out or ROOT / "bench" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssbtek-profile-"))
    ctx = Context(profile=QUICK, workdir=workdir, pg=pg.PgServer())
    try:
        with servers.running(spec, ctx) as run:
            sampling = max(1, int(args.seconds) - 2)  # inside the measured window
            record = [py_spy, "record", "--pid", str(run.serving_pids[0]), "--gil"]
            record += ["--nonblocking", "--rate", "200", "--format", "raw"]
            record += ["--duration", str(sampling), "--output", str(out)]
            with subprocess.Popen(record, stdout=subprocess.DEVNULL) as sampler:  # noqa: S603
                load = drive.Load.closed(args.concurrency, args.seconds, warmup_s=1.0)
                summary, _ = drive.measure(load, run, ctx, label=args.server)
                sampler.wait(timeout=args.seconds + 30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [
        f"{args.server}: {summary.throughput_qps:.1f} q/s, server CPU "
        f"{summary.server_cpu_ms_per_query} ms/query; raw stacks in {out}",
        "",
        *summarise(out),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
