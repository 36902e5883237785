"""The Markdown report, rendered from a result file's JSON (``python -m bench.report FILE``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

Row = Sequence[object]
_RATIO_RATE = 30.0
Result = Mapping[str, Any]


def _fmt(value: object, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}".replace(",", " ")
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return str(value)


def _share(value: object) -> str:
    return "—" if not isinstance(value, int | float) else f"{100 * value:.1f} %"


def table(header: Row, rows: Iterable[Row]) -> list[str]:
    lines = [
        "| " + " | ".join(map(str, header)) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _ok(items: Iterable[Any]) -> list[Result]:
    return [item for item in items if isinstance(item, Mapping) and "error" not in item]


def _errors(run: Result) -> str:
    errors: Mapping[str, int] = run.get("errors") or {}
    return ", ".join(f"{code} {count}" for code, count in sorted(errors.items())) or "0"


def _latency_cells(latency: Result) -> list[object]:
    return [latency.get(key) for key in ("p50_ms", "p90_ms", "p99_ms", "p999_ms")]


def _header(result: Result) -> list[str]:
    meta = result["meta"]
    host = meta["host"]
    quick = meta["profile"]["name"] == "quick"
    postgres: Result = meta["postgres"] if "error" not in meta["postgres"] else {}
    lines = [
        f"# SSBTEK Core benchmarks, {meta['started']}"
        + (" (QUICK run: smoke durations, not figures to quote)" if quick else " (full run)"),
        "",
        f"- Machine: {host['cpu_model']}, {host['cpus']} cores, {host['memory_gib']} GiB; "
        f"load average {host['loadavg_start']} at the start, {host['loadavg_end']} at the end "
        "(the machine may be shared).",
        f"- Load generator pinned to cores {meta['client_cpus']}; one server process to cores "
        f"{meta['server_cpus_one_process']}. Commit {meta['git']['commit']}"
        + (" with local changes." if meta["git"]["dirty"] else "."),
        f"- PostgreSQL {postgres.get('server_version', '?')}: synchronous_commit "
        f"{postgres.get('synchronous_commit', '?')}, fsync {postgres.get('fsync', '?')}, "
        f"shared_buffers {postgres.get('shared_buffers', '?')}.",
        f"- Service defaults: {meta['service_defaults']}; the benchmarks run with the "
        "per-organisation rate limit OFF (`SSBTEK_RATE_LIMIT=`): all load comes from the one "
        "demo municipality.",
        "- *client CPU share*: the load generator's CPU over the window (near 1.0 the client "
        "is the limit). *other load*: CPU (in cores) used meanwhile by every other process, "
        "PostgreSQL's background writers included; well above 0 means the machine was shared "
        "and the figures are pessimistic.",
        "",
    ]
    return lines


def _ladder(result: Result) -> list[str]:
    rungs = _ok(result.get("ladder", []))
    if not rungs:
        return []
    two = {
        r["rung"]: r["run"]["throughput_qps"]
        for r in _ok(result.get("scale_out", []))
        if r["processes"] == 2
    }
    base = next((r for r in rungs if r["rung"] == "L1"), None)

    def p50_at_30(rung: Result) -> float | None:
        runs = [r for r in rung["fixed_rates"] if r["offered_qps"] == _RATIO_RATE]
        return runs[0]["latency"]["p50_ms"] if runs else None

    def ratio(rung: Result, pick: str) -> float | None:
        if base is None or rung["rung"] in ("L0", "L1"):
            return None
        if pick == "p50_at_30":
            mine, theirs = p50_at_30(rung), p50_at_30(base)
        else:
            mine, theirs = rung["best"].get(pick), base["best"].get(pick)
        return round(mine / theirs, 2) if mine and theirs else None

    lines = ["## The ladder (same request, same machine, same run)", ""]
    lines += table(
        [
            "rung",
            "what",
            "max q/s (1 process)",
            "concurrency",
            "server CPU ms/query",
            "PostgreSQL CPU ms/query",
            "client CPU share",
            "other load (cores)",
            "max q/s (2 processes, SO_REUSEPORT)",
            "q/s vs L1",
            "CPU/query vs L1",
            "p50 at 30 q/s vs L1",
        ],
        [
            [
                r["rung"],
                r["title"],
                r["best"]["throughput_qps"],
                r["best"]["concurrency"],
                r["best"]["server_cpu_ms_per_query"],
                r["best"]["pg_cpu_ms_per_query"],
                r["best"]["client_cpu_share"],
                r["best"].get("other_cpu_share"),
                two.get(r["rung"]),
                ratio(r, "throughput_qps"),
                ratio(r, "server_cpu_ms_per_query"),
                ratio(r, "p50_at_30"),
            ]
            for r in rungs
        ],
    )
    lines += [
        "Latency in ms from the intended send time (open loop); providers answer at once "
        "(`latency=none`), so this latency is the overhead of everything but the providers.",
        "",
    ]
    rows = []
    for r in rungs:
        runs = [(f"{_fmt(run['offered_qps'])} q/s", run) for run in r["fixed_rates"]]
        if r.get("at_80_percent"):
            run = r["at_80_percent"]
            runs.append((f"{_fmt(run['offered_qps'])} q/s (80 % of max)", run))
        for label, run in runs:
            rows.append(
                [
                    r["rung"],
                    label,
                    run["requests"],
                    *_latency_cells(run["latency"]),
                    _errors(run),
                    run["overloaded"],
                    run.get("other_cpu_share"),
                ]
            )
    lines += table(
        ["rung", "rate", "n", "p50", "p90", "p99", "p99.9", "errors", "overloaded", "other load"],
        rows,
    )
    return lines


def _soap(result: Result) -> list[str]:
    found = _ok(result.get("soap", []))
    if not found:
        return []
    (soap,) = found
    lines = ["## The v10 SOAP facade beside gRPC (one server, same query, same run)", ""]
    lines += [f"Server: {soap['server']}, cores {soap['server_cpus']}.", ""]
    lines += table(
        [
            "entry point",
            "max q/s",
            "concurrency",
            "server CPU ms/query",
            "client CPU share",
            "p50 at 30 q/s",
            "p99 at 30 q/s",
            "errors",
            "other load (cores)",
        ],
        [
            [
                run["entry_point"],
                run["best"]["throughput_qps"],
                run["best"]["concurrency"],
                run["best"]["server_cpu_ms_per_query"],
                run["best"]["client_cpu_share"],
                run["at_rate"]["latency"]["p50_ms"],
                run["at_rate"]["latency"]["p99_ms"],
                _errors(run["best"]) + " / " + _errors(run["at_rate"]),
                run["best"].get("other_cpu_share"),
            ]
            for run in soap["runs"]
        ],
    )
    lines += [
        f"The SOAP adapter per query: {_fmt(soap['cpu_ms_per_query_overhead'], 3)} ms of "
        f"server CPU and {_fmt(soap['p50_ms_overhead'], 3)} ms of p50 latency at 30 q/s more "
        f"than gRPC; maximum throughput {_fmt(soap['throughput_ratio'], 2)} x gRPC's.",
        "",
    ]
    return lines


def _overhead(result: Result) -> list[str]:
    found = _ok(result.get("overhead", []))
    if not found:
        return []
    latency = found[0]["provider_latency_ms"]
    lines = [
        f"## Overhead with every provider taking exactly {_fmt(latency)} ms",
        "",
        f"Answer latency minus the slowest provider's {_fmt(latency)} ms, open loop at "
        f"{_fmt(found[0]['run']['offered_qps'])} q/s.",
        "",
    ]
    lines += table(
        ["rung", "n", "p50", "p90", "p99", "p99.9", "errors", "other load"],
        [
            [
                r["rung"],
                r["run"]["requests"],
                *_latency_cells(r["overhead"]),
                _errors(r["run"]),
                r["run"].get("other_cpu_share"),
            ]
            for r in found
        ],
    )
    return lines


def _scale_out(result: Result) -> list[str]:
    found = _ok(result.get("scale_out", []))
    if not found:
        return []
    lines = [
        "## Scale-out: N processes sharing the port (SO_REUSEPORT), closed loop",
        "",
    ]
    lines += table(
        [
            "rung",
            "processes",
            "started as",
            "cores",
            "q/s",
            "server CPU ms/query",
            "CPU share by process",
            "client CPU share",
            "other load (cores)",
            "errors",
        ],
        [
            [
                r["rung"],
                r["processes"],
                str(r.get("server", "")).split(" via ")[-1].split(",")[0],
                ",".join(map(str, r["server_cpus"])),
                r["run"]["throughput_qps"],
                r["run"]["server_cpu_ms_per_query"],
                " / ".join(f"{share:.2f}" for share in r["cpu_share_by_process"]),
                r["run"]["client_cpu_share"],
                r["run"].get("other_cpu_share"),
                _errors(r["run"]),
            ]
            for r in found
        ],
    )
    return lines


def _conformance(result: Result) -> list[str]:
    found = result.get("conformance")
    if not isinstance(found, Mapping) or "error" in found:
        return []
    burst = found["burst"]
    lines = [
        "## Service-level conformance (measured, not asserted)",
        "",
        f"{_fmt(found['base_rate_qps'])} q/s for {_fmt(found['duration_s'])} s, "
        f"{_fmt(burst['rate_qps'])} q/s from {_fmt(burst['start_s'])} s "
        f"to {_fmt(burst['end_s'])} s; "
        f"1 to 10 subjects; providers `{found['provider_options']}`; "
        f"{found['hanging_provider']} never answers; PostgreSQL store. "
        f"Errors: {_errors(found['run'])}.",
        "",
    ]
    lines += table(
        [
            "group",
            "answers",
            "within 7 s + 1.5 s/extra",
            "within 12 s + 1.5 s/extra",
            "p50 ms",
            "p99 ms",
            "max ms",
        ],
        [
            [
                g["group"],
                g["answers"],
                _share(g["within_target"]),
                _share(g["within_limit"]),
                g["latency"]["p50_ms"],
                g["latency"]["p99_ms"],
                g["latency"]["max_ms"],
            ]
            for g in found["groups"]
            if g["answers"]
        ],
    )
    return lines


def _storage(result: Result) -> list[str]:
    found = result.get("storage")
    if not isinstance(found, Mapping):
        return []
    template = found["template"]
    lines = [
        "## Storage limit: one query's audit rows per transaction",
        "",
        f"{template['events_per_query']} events, {template['state_bytes_per_query']} bytes of "
        "state per query (the rows one real query wrote).",
        "",
    ]
    lines += table(
        [
            "store",
            "variant",
            "threads",
            "queries/s",
            "events/s",
            "tx p50 ms",
            "tx p99 ms",
            "vs PostgreSQL event store (service settings)",
        ],
        [
            [
                r["store"],
                r["variant"],
                r["threads"],
                r["queries_per_s"],
                r["events_per_s"],
                r["transaction"]["p50_ms"],
                r["transaction"]["p99_ms"],
                r["vs_event_store"],
            ]
            for r in _ok(found["results"])
        ],
    )
    return lines


def _replay(result: Result) -> list[str]:
    found = _ok(result.get("replay", []))
    if not found:
        return []
    lines = ["## Audit replay (reading the notification log in order)", ""]
    lines += table(
        [
            "store",
            "events",
            "seeding events/s (bulk)",
            "read events/s (pages of 1000)",
            "read + decode events/s",
            "notification_log events/s (sections of 10)",
            "read + hash-chain verify events/s",
        ],
        [
            [
                r["store"],
                r["events"],
                r["seed_events_per_s"],
                r["read_events_per_s"],
                r["decode_events_per_s"],
                r["log_section_events_per_s"],
                r.get("verify_events_per_s", "—"),
            ]
            for r in found
        ],
    )
    return lines


def _history(result: Result) -> list[str]:
    found = _ok(result.get("history", []))
    if not found:
        return []
    lines = ["## History at scale (seconds, one run each; ADR 0027)", ""]
    lines += table(
        [
            "store",
            "events",
            "recovery restart: before (from 0)",
            "after (tracked)",
            "incidents follower restart",
            "sealer round / idle",
            "monthly report",
            "org month replay: after / before",
            "verify: whole / from anchor",
            "serve ready / recovered: before",
            "after",
            "bytes per query",
        ],
        [
            [
                r["store"],
                r["events"],
                f"{r['recovery_untracked_s']} ({r['recovery_untracked_read']} read)",
                f"{r['recovery_tracked_s']} ({r['recovery_tracked_read']} read)",
                r["incidents_restart_s"],
                f"{r['seal_round_s']} / {r['seal_idle_s']}",
                f"{r['report_s']} ({r['report_month_queries']} queries)",
                f"{r['replay_s']} / {_fmt(r['replay_before_s'], 3)}",
                f"{r['verify_full_s']} / {r['verify_resumed_s']}",
                f"{_fmt(r['serve_ready_untracked_s'], 2)} / "
                f"{_fmt(r['serve_recovered_untracked_s'], 2)}",
                f"{_fmt(r['serve_ready_tracked_s'], 2)} / "
                f"{_fmt(r['serve_recovered_tracked_s'], 2)}",
                r["bytes_per_query"],
            ]
            for r in found
        ],
    )
    return lines


def _memory(result: Result) -> list[str]:
    found = _ok(result.get("memory", []))
    if not found:
        return []
    lines = [
        f"## Memory with {found[0]['in_flight']} queries in flight "
        f"(providers {_fmt(found[0]['provider_latency_s'])} s each)",
        "",
    ]
    lines += table(
        [
            "store",
            "baseline MiB",
            "peak MiB",
            "growth MiB",
            "KiB per query in flight",
            "after MiB",
            "errors",
        ],
        [
            [
                r["store"],
                r["baseline_mib"],
                r["peak_mib"],
                r["growth_mib"],
                r["kib_per_query_in_flight"],
                r["after_mib"],
                _errors(r["run"]),
            ]
            for r in found
        ],
    )
    return lines


def _hung_provider(result: Result) -> list[str]:
    found = _ok(result.get("hung_provider", []))
    if not found:
        return []
    lines = [
        "## One provider hung: a 1-subject query without and with the circuit breaker",
        "",
        "Arbetsförmedlingen never answers, the other seven answer with the demo latency; full "
        f"service on the in-memory store, open loop at {_fmt(found[0]['run']['offered_qps'])} "
        "q/s. *before*: the breaker never opens; *after*: the defaults (ADR 20).",
        "",
    ]
    lines += table(
        ["case", "n", "p50", "p90", "p99", "p99.9", "errors", "other load"],
        [
            [
                r["case"],
                r["run"]["requests"],
                *_latency_cells(r["run"]["latency"]),
                _errors(r["run"]),
                r["run"].get("other_cpu_share"),
            ]
            for r in found
        ],
    )
    return lines


def _overload(result: Result) -> list[str]:
    found = result.get("overload")
    sides = found if isinstance(found, list) else [found]
    lines: list[str] = []
    for side in sides:
        lines += _overload_side(side)
    return lines


def _overload_side(found: Any) -> list[str]:
    if not isinstance(found, dict) or "steps" not in found:
        return []
    lines = [
        f"## Past capacity: goodput, refusals and admitted latency (ADR 26): "
        f"{found.get('tree', 'this tree')}",
        "",
        f"{found['server']}; {found['organisations']} organisations in turn, rate limit off. "
        f"Measured capacity {_fmt(found['capacity_qps'])} q/s (closed loop, "
        f"c={found['capacity_concurrency']}). Latency in ms from the intended send.",
        "",
    ]
    lines += table(
        [
            "x capacity",
            "offered q/s",
            "sent",
            "goodput q/s",
            "of capacity",
            "refused",
            "refusal p50",
            "refusal p99",
            "admitted p50",
            "admitted p99",
            "other codes",
            "client CPU",
            "other load",
        ],
        [
            [
                s["multiple"],
                s["offered_qps"],
                s["sent"],
                s["goodput_qps"],
                s["goodput_share"],
                s["refused"],
                s["refusal"]["p50_ms"],
                s["refusal"]["p99_ms"],
                s["admitted"]["p50_ms"],
                s["admitted"]["p99_ms"],
                ", ".join(f"{k} {v}" for k, v in s["other"].items()) or "none",
                s["client_cpu_share"],
                s["other_cpu_share"],
            ]
            for s in found["steps"]
        ],
    )
    if found.get("plot"):
        lines += ["", f"Plot: `{found['plot']}`"]
    return lines


def _accept_path(result: Result) -> list[str]:
    found = _ok(result.get("accept_path", []))
    if not found:
        return []
    lines = [
        "## Refusals from a busy process: the gRPC server on the application's loop or its own",
        "",
        "A bare grpc.aio server refusing every call, its application loop busy in 1 ms slices "
        "(ADR 26, amended). Latency in ms from the intended send; work: the share of the "
        "server's core the application's work still got.",
        "",
    ]
    lines += table(
        ["rate q/s", "server", "sent", "refused", "refusal p50", "refusal p99", "other", "work"],
        [
            [
                s["rate_qps"],
                "its own loop" if s["arrangement"] == "own" else "the application's loop",
                s["sent"],
                s["refused"],
                s["refusal"]["p50_ms"],
                s["refusal"]["p99_ms"],
                ", ".join(f"{k} {v}" for k, v in s["other"].items()) or "none",
                s["work_share"],
            ]
            for s in found
        ],
    )
    return lines


def _providers(result: Result) -> list[str]:
    found = _ok(result.get("providers", []))
    if not found:
        return []
    lines = [
        "## The providers over the wire: v10 adapters beside the simulated ones",
        "",
        "Full service, in-memory store, open loop at "
        f"{_fmt(found[0]['run']['offered_qps'])} q/s; providers without latency, in process "
        "(`simulated`) or behind `ssbtek simulate-providers` over their v10 contracts (`v10`).",
        "",
    ]
    lines += table(
        [
            "providers",
            "n",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "errors",
            "server ms/q",
            "simulators ms/q",
            "other load",
        ],
        [
            [
                r["providers"],
                r["run"]["requests"],
                *_latency_cells(r["run"]["latency"]),
                _errors(r["run"]),
                r["run"].get("server_cpu_ms_per_query"),
                r.get("simulators_cpu_ms_per_query"),
                r["run"].get("other_cpu_share"),
            ]
            for r in found
        ],
    )
    return lines


def _failures(result: Result) -> list[str]:
    failed: list[Result] = []
    for key in (
        "ladder",
        "overhead",
        "hung_provider",
        "providers",
        "scale_out",
        "replay",
        "memory",
        "history",
    ):
        failed += [item for item in result.get(key, []) if "error" in item]
    for key in ("conformance",):
        item = result.get(key)
        if isinstance(item, Mapping) and "error" in item:
            failed.append(item)
    storage = result.get("storage")
    if isinstance(storage, Mapping):
        failed += [item for item in storage.get("results", []) if "error" in item]
        if "error" in storage:
            failed.append(storage)
    if not failed:
        return []
    return [
        "## Not measured",
        "",
        *(f"- {item['name']}: {item['error'].splitlines()[0]}" for item in failed),
        "",
    ]


def render(result: Result) -> str:
    lines = _header(result)
    for section in (
        _ladder,
        _soap,
        _overhead,
        _hung_provider,
        _overload,
        _accept_path,
        _providers,
        _scale_out,
        _conformance,
        _storage,
        _replay,
        _history,
        _memory,
        _failures,
    ):
        lines += section(result)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m bench.report RESULT.json\n")
        return 2
    sys.stdout.write(render(json.loads(Path(argv[0]).read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
