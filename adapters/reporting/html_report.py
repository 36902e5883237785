"""The monthly report as one self-contained HTML page: tables, and the charts as inline SVG.

Every text from the report is escaped. The page loads nothing from elsewhere (no scripts,
fonts or images), so it can be mailed, archived and opened offline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from adapters.reporting.charts import availability_chart, latency_chart
from adapters.reporting.report_json import NO_DATA_SOURCE
from application.audit.report_model import (
    AVAILABILITY_TARGET_PERCENT,
    DELIVERY_TARGET_PERCENT,
    MAX_UNPLANNED_OUTAGES,
    PERFORMANCE_TARGET_PERCENT,
    MonthlyReport,
    Percentiles,
)
from application.audit.report_sources import PlannedChange, PriorityFigures
from domain.providers import STOCKHOLM

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.met { color: #2e7d32; font-weight: bold; } .missed { color: #c62828; font-weight: bold; }
.none { color: #777; font-style: italic; } figure { margin: 1em 0; } svg { max-width: 100%; }
"""


class _Raw(str):
    """Text that is already HTML (made here, never from the report's data)."""

    __slots__ = ()


def _cell(value: object) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _verdict(met: bool | None) -> _Raw:
    if met is None:
        return _Raw('<span class="none">no queries</span>')
    return _Raw('<span class="met">met</span>' if met else '<span class="missed">not met</span>')


def _percent(value: float | None) -> _Raw:
    return _Raw("&ndash;" if value is None else f"{value:.2f} %")


def _minutes(count: int) -> str:
    return f"{count // 60} h {count % 60:02d} min"


def _none(section: str) -> str:
    return f'<p class="none">{escape(section)}: {NO_DATA_SOURCE}.</p>'


def _percentiles(p: Percentiles) -> list[object]:
    return [p.count, p.p50, p.p90, p.p95, p.p99, p.max]


def _priorities(title: str, figures: Sequence[PriorityFigures] | None) -> str:
    if figures is None:
        return f"<h2>{escape(title)}</h2>" + _none(title)
    rows = [(f.priority, f.opened, f.resolved, f.resolved_in_time, f.open_at_end) for f in figures]
    headers = ["priority", "opened", "resolved", "resolved in time", "open at month end"]
    return f"<h2>{escape(title)}</h2>" + _table(headers, rows)


def _changes(changes: Sequence[PlannedChange] | None) -> str:
    if changes is None:
        return "<h2>Planned changes (§ 3.5.5)</h2>" + _none("Planned changes")
    rows = [
        (c.reference, c.priority, c.status, c.outcome, c.planned_start.astimezone(STOCKHOLM))
        for c in changes
    ]
    headers = ["change", "priority", "status", "outcome", "planned start"]
    return "<h2>Planned changes (§ 3.5.5)</h2>" + _table(headers, rows)


def render_html(report: MonthlyReport) -> str:
    """The whole page."""
    perf, avail, delivery, usage = (
        report.performance,
        report.availability,
        report.delivery,
        report.usage,
    )
    summary = _table(
        ["service level (004 Bilaga 4)", "target", "outcome", "verdict"],
        [
            (
                "Performance § 3.7.1: answers within 7 s (+1.5 s per extra subject)",
                f"at least {PERFORMANCE_TARGET_PERCENT:.0f} %",
                _percent(perf.share_within_target),
                _verdict(perf.target_met),
            ),
            (
                "Performance § 3.7.1: answers within 12 s (+1.5 s per extra subject)",
                "100 %",
                _percent(perf.share_within_limit),
                _verdict(perf.limit_met),
            ),
            (
                "Availability § 3.8.1: within opening hours",
                f"at least {AVAILABILITY_TARGET_PERCENT:.0f} %",
                _percent(avail.percentage),
                _verdict(avail.target_met),
            ),
            (
                "Reliability § 3.8.1: unplanned outages",
                f"at most {MAX_UNPLANNED_OUTAGES}",
                avail.unplanned_outages,
                _verdict(avail.reliability_met),
            ),
            (
                "Delivery precision § 3.9.1: queries answered",
                f"at least {DELIVERY_TARGET_PERCENT:.0f} %",
                _percent(delivery.share),
                _verdict(delivery.target_met),
            ),
        ],
    )
    providers = _table(
        [
            "provider",
            "queries",
            "calls",
            "answered",
            "no data",
            "errors SSBT",
            "errors BT",
            "closed",
            "not entitled",
            "p50 ms",
            "p90 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
        ],
        [
            (
                p.provider,
                p.queries,
                p.calls,
                p.answered,
                p.no_data,
                p.ssbt_errors,
                p.bt_errors,
                p.closed,
                p.not_entitled,
                *_percentiles(p.latency_ms)[1:],
            )
            for p in perf.providers
        ],
    )
    outages = (
        _table(
            ["start", "end", "unavailable", "planned", "evidence"],
            [
                (
                    o.start.astimezone(STOCKHOLM),
                    o.end.astimezone(STOCKHOLM),
                    _minutes(o.minutes),
                    "yes" if o.planned else "no",
                    "; ".join(o.evidence),
                )
                for o in avail.outages
            ],
        )
        if avail.outages
        else "<p>No outage within opening hours.</p>"
    )
    recorded = (
        ""
        if avail.recorded_outages_source
        else _none("Outages recorded outside the query log (incidents, planned changes)")
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>SSBTEK monthly service-level report {report.month}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>SSBTEK monthly service-level report {report.month}</h1>",
        "<p>Rebuilt from the audit trail (the Queries log, read through position "
        f"{report.read_through}). Opening hours: Monday-Friday 08:00-17:00 Europe/Stockholm, "
        "no Swedish public holidays. Definitions: ADR 0012.</p>",
        summary,
        "<h2>Performance (§ 3.7)</h2>",
        f"<p>{perf.answered_queries} answered queries; {perf.within_target} within 7 s "
        f"(+1.5 s per extra subject), {perf.within_limit} within 12 s (+1.5 s).</p>",
        _table(
            ["query time", "answers", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"],
            [("all answers", *_percentiles(perf.query_time_ms))],
        ),
        f"<figure>{latency_chart(perf.normalised_histogram)}</figure>",
        "<h3>Per provider: calls made (usage, 004 § 7.2) and their latencies</h3>",
        providers,
        "<h2>Availability and reliability (§ 3.8)</h2>",
        _table(
            [
                "opening time",
                "available",
                "unavailable",
                "of which planned",
                "available with disturbance",
                "availability",
            ],
            [
                (
                    _minutes(avail.opening_minutes),
                    _minutes(avail.available_minutes),
                    _minutes(avail.unavailable_minutes),
                    _minutes(avail.planned_unavailable_minutes),
                    _minutes(avail.disturbed_minutes),
                    _percent(avail.percentage),
                )
            ],
        ),
        f"<figure>{availability_chart(avail.days)}</figure>" if avail.days else "",
        f"<p>Unplanned outages: {avail.unplanned_outages} "
        f"(at most {MAX_UNPLANNED_OUTAGES} a month).</p>",
        outages,
        recorded,
        "<h2>Delivery precision (§ 3.9)</h2>",
        _table(
            [
                "received",
                "answered",
                "not answered",
                "cancelled by the caller in time",
                "answered share",
            ],
            [
                (
                    delivery.received,
                    delivery.answered,
                    delivery.unanswered,
                    delivery.left_by_caller,
                    _percent(delivery.share),
                )
            ],
        ),
        _table(
            ["refused request, by reason", "count"],
            [(r.reason, r.count) for r in delivery.rejected],
        )
        if delivery.rejected
        else "",
        "<h2>Usage (004 § 7.2)</h2>",
        f"<p>{usage.queries} queries about {usage.subjects} subjects; {usage.rejected} refused; "
        f"at most {usage.peak_queries_per_minute} queries in one minute.</p>",
        _table(
            ["organisation", "queries", "subjects", "refused"],
            [(o.organisation, o.queries, o.subjects, o.rejected) for o in usage.organisations],
        ),
        _priorities("Incidents by priority (§ 3.3, § 4)", report.incidents),
        _priorities("Problems by priority (§ 3.5, § 4)", report.problems),
        _changes(report.planned_changes),
        "</body></html>",
    ]
    return "\n".join(parts)
