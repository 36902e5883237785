"""The monthly report as one self-contained HTML page: tables, and the charts as SVG images.

Every text from the report is escaped. The page loads nothing from elsewhere (no scripts,
fonts or linked images: the charts are ``data:`` URIs), so it can be mailed, archived and
opened offline. It fits a laptop screen: the tables are narrow enough for 1280 px, long
cells wrap, and the charts scale down with the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape

from adapters.reporting.charts import availability_chart, data_uri, latency_chart
from adapters.reporting.report_json import NO_DATA_SOURCE
from application.audit.report_model import (
    AVAILABILITY_TARGET_PERCENT,
    DELIVERY_TARGET_PERCENT,
    MAX_UNPLANNED_OUTAGES,
    PERFORMANCE_TARGET_PERCENT,
    Availability,
    MonthlyReport,
    Percentiles,
)
from application.audit.report_sources import PlannedChange, PriorityFigures
from domain.providers import STOCKHOLM

NO_EVIDENCE = "no evidence"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 60em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
td.text { overflow-wrap: anywhere; }
.met { color: #2e7d32; font-weight: bold; } .missed { color: #c62828; font-weight: bold; }
.none { color: #666; font-style: italic; }
.evidence { background: #f7f7f0; border-left: 4px solid #b0a060; padding: 0.5em 1em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; }
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
    if isinstance(value, dt.datetime):
        return escape(_when(value))
    return escape(str(value))


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, text: Sequence[int] = ()
) -> str:
    """A table; the columns numbered in ``text`` hold text (left-aligned, wrapping anywhere)."""

    def kind(index: int) -> str:
        return ' class="text"' if index in text else ""

    head = "".join(f"<th{kind(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{kind(i)}>{_cell(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _verdict(met: bool | None, missing: str = "no queries") -> _Raw:
    if met is None:
        return _Raw(f'<span class="none">{escape(missing)}</span>')
    return _Raw('<span class="met">met</span>' if met else '<span class="missed">not met</span>')


def _percent(value: float | None, missing: str = "&ndash;") -> _Raw:
    return _Raw(missing if value is None else f"{value:.2f} %")


def _minutes(count: int) -> str:
    return f"{count // 60} h {count % 60:02d} min"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _none(text: str) -> str:
    return f'<p class="none">{escape(text)}</p>'


def _no_source(section: str) -> str:
    return _none(f"{section}: {NO_DATA_SOURCE}.")


def _figure(svg: str | None, alt: str, missing: str) -> str:
    if svg is None:
        return _none(missing)
    return f'<figure><img alt="{escape(alt)}" src="{data_uri(svg)}"></figure>'


def _percentiles(p: Percentiles) -> list[object]:
    return [p.count, p.p50, p.p90, p.p95, p.p99, p.max]


def _priorities(title: str, figures: Sequence[PriorityFigures] | None) -> str:
    if figures is None:
        return f"<h2>{escape(title)}</h2>" + _no_source(title)
    rows = [(f.priority, f.opened, f.resolved, f.resolved_in_time, f.open_at_end) for f in figures]
    headers = ["priority", "opened", "resolved", "resolved in time", "open at month end"]
    return f"<h2>{escape(title)}</h2>" + _table(headers, rows)


def _changes(changes: Sequence[PlannedChange] | None) -> str:
    title = "<h2>Planned changes (§ 3.5.5)</h2>"
    if changes is None:
        return title + _no_source("Planned changes")
    if not changes:
        return title + _none("No planned change in this month.")
    rows = [(c.reference, c.priority, c.status, c.outcome, c.planned_start) for c in changes]
    return title + _table(["change", "priority", "status", "outcome", "planned start"], rows)


def _evidence(report: MonthlyReport) -> str:
    avail = report.availability
    positions = f"the Queries log read through position {report.read_through}"
    if report.running_time_read_through is not None:
        positions += (
            ", the ServiceRuns log (the service's records of its running time) through "
            f"position {report.running_time_read_through}"
        )
    if avail.evidence is None:
        period = (
            "<strong>No evidence of the service's running time covers any of this month: "
            "the report gives no availability figure for it.</strong>"
        )
    else:
        period = (
            f"<strong>Evidence period: {escape(_when(avail.evidence.start))} to "
            f"{escape(_when(avail.evidence.end))}</strong> (Stockholm time). Availability is "
            f"measured over the {_minutes(avail.measured_minutes)} of opening time in it that "
            "had passed; opening time before it has no evidence and after it had not happened."
        )
    return (
        f'<div class="evidence"><p>{period}</p>'
        f"<p>Made {escape(_when(report.made_at))} from the audit trail: {positions}. "
        "Opening hours: Monday-Friday 08:00-17:00 Europe/Stockholm, no Swedish public "
        "holidays. Definitions: ADR 0012.</p></div>"
    )


def _summary(report: MonthlyReport) -> str:
    perf, avail, delivery = report.performance, report.availability, report.delivery
    return _table(
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
                _percent(avail.percentage, NO_EVIDENCE),
                _verdict(avail.target_met, NO_EVIDENCE),
            ),
            (
                "Reliability § 3.8.1: unplanned outages",
                f"at most {MAX_UNPLANNED_OUTAGES}",
                avail.unplanned_outages if avail.measured_minutes else _Raw(NO_EVIDENCE),
                _verdict(avail.reliability_met, NO_EVIDENCE),
            ),
            (
                "Delivery precision § 3.9.1: queries answered",
                f"at least {DELIVERY_TARGET_PERCENT:.0f} %",
                _percent(delivery.share),
                _verdict(delivery.target_met),
            ),
        ],
    )


def _performance(report: MonthlyReport) -> list[str]:
    perf = report.performance
    counts = _table(
        [
            *("provider", "queries", "calls", "answered", "no data", "errors SSBT", "errors BT"),
            *("closed", "not entitled"),
        ],
        [
            (
                *(p.provider, p.queries, p.calls, p.answered, p.no_data, p.ssbt_errors),
                *(p.bt_errors, p.closed, p.not_entitled),
            )
            for p in perf.providers
        ],
    )
    reasons = [count.reason for count in perf.providers[0].not_asked] if perf.providers else []
    not_asked = _table(
        ["provider", *(f"not asked: {r.lower().replace('_', ' ')}" for r in reasons)],
        [(p.provider, *(count.queries for count in p.not_asked)) for p in perf.providers],
    )
    latencies = _table(
        ["provider", "calls made", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"],
        [(p.provider, *_percentiles(p.latency_ms)) for p in perf.providers],
    )
    return [
        "<h2>Performance (§ 3.7)</h2>",
        f"<p>{perf.answered_queries} answered queries; {perf.within_target} within 7 s "
        f"(+1.5 s per extra subject), {perf.within_limit} within 12 s (+1.5 s).</p>",
        _table(
            ["query time", "answers", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"],
            [("all answers", *_percentiles(perf.query_time_ms))],
        ),
        _figure(
            latency_chart(perf.normalised_histogram),
            "Latency distribution of answered queries on a log scale, with the 7 s and 12 s lines",
            "Latency distribution: no data (no answered query in this month).",
        ),
        "<h3>Per provider: calls (usage, 004 § 7.2)</h3>",
        counts,
        "<h3>Per provider: queries where it was not asked, by reason</h3>",
        not_asked,
        "<h3>Per provider: latencies of the calls made</h3>",
        latencies,
    ]


def _availability(avail: Availability) -> list[str]:
    measured = avail.measured_minutes
    rows = (
        ("up and answering (available)", avail.available_minutes, True),
        ("of which with disturbance", avail.disturbed_minutes, True),
        ("up and failing (unavailable)", avail.failing_minutes, True),
        ("not running (unavailable)", avail.not_running_minutes, True),
        ("unavailable, of which planned", avail.planned_unavailable_minutes, True),
        ("measured (elapsed, with evidence)", measured, True),
        ("no evidence (not measured)", avail.no_evidence_minutes, False),
        ("not yet happened (not measured)", avail.not_yet_minutes, False),
        ("all opening time", avail.opening_minutes, False),
    )
    states = _table(
        ["opening time of the month", "time", "of measured"],
        [
            (
                label,
                _minutes(minutes),
                _percent(100.0 * minutes / measured if counted and measured else None),
            )
            for label, minutes, counted in rows
        ],
    )
    outages = (
        _table(
            ["start", "end", "unavailable", "planned", "evidence"],
            [
                (o.start, o.end, _minutes(o.minutes), _yes(o.planned), "; ".join(o.evidence))
                for o in avail.outages
            ],
            text=(4,),
        )
        if avail.outages
        else _none("No outage within the measured opening time.")
    )
    runs = (
        _table(
            ["node", "worker", "running from", "until", "then"],
            [(r.node, r.worker, r.start, r.end, r.ended) for r in avail.runs],
            text=(4,),
        )
        if avail.runs
        else _none("No process of the service recorded running in this month.")
    )
    return [
        "<h2>Availability and reliability (§ 3.8)</h2>",
        states,
        _figure(
            availability_chart(avail.days),
            "Opening hours per working day by what the evidence shows",
            "Availability per day: no data (no measured opening time in this month).",
        ),
        f"<p>Unplanned outages: {avail.unplanned_outages} "
        f"(at most {MAX_UNPLANNED_OUTAGES} a month).</p>"
        if measured
        else "",
        outages,
        ""
        if avail.recorded_outages_source
        else _no_source("Outages recorded outside the query log (incidents, planned changes)"),
        "<h3>The service's processes, as their records show them running</h3>",
        runs,
    ]


def render_html(report: MonthlyReport) -> str:
    """The whole page."""
    delivery, usage = report.delivery, report.usage
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>SSBTEK monthly service-level report {report.month}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>SSBTEK monthly service-level report {report.month}</h1>",
        _evidence(report),
        _summary(report),
        *_performance(report),
        *_availability(report.availability),
        "<h2>Delivery precision (§ 3.9)</h2>",
        _table(
            [
                *("received", "answered", "not answered", "cancelled by the caller in time"),
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
            ["organisation", "name", "queries", "subjects", "refused"],
            [
                (
                    o.organisation or _Raw('<span class="none">not known (refused)</span>'),
                    o.name,
                    o.queries,
                    o.subjects,
                    o.rejected,
                )
                for o in usage.organisations
            ],
            text=(1,),
        )
        if usage.organisations
        else _none("No query in this month."),
        "<h2>Security events: attempts to act as another organisation</h2>",
        _table(
            ["caller (its certificate)", "organisations it named", "attempts", "first", "last"],
            [
                (
                    e.caller or _Raw('<span class="none">not recorded (before ADR 24)</span>'),
                    ", ".join(e.claimed),
                    e.attempts,
                    e.first_at,
                    e.last_at,
                )
                for e in report.security_events
            ],
            text=(1,),
        )
        if report.security_events
        else _none("No attempt to act as another organisation."),
        _priorities("Incidents by priority (§ 3.3, § 4)", report.incidents),
        _priorities("Problems by priority (§ 3.5, § 4)", report.problems),
        _changes(report.planned_changes),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)
