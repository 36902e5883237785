"""The report's charts, drawn by matplotlib as SVG images to embed in the HTML page.

No pyplot: each chart is its own ``Figure`` (no global state, safe in a worker thread). The
SVG carries no creation date and fixed element ids, so the same report draws the same bytes.
A chart is drawn only when there is something to draw: the page says "no data" otherwise.
matplotlib's logger is quiet below errors (``adapters/reporting/__init__.py``).
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Sequence
from typing import Final

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from application.audit.report_model import DayAvailability, HistogramBin

LOWEST_S: Final = 0.05
"""The latency chart's left edge: the first bar (under 0.1 s) starts here on the log scale."""
HIGHEST_S: Final = 60.0
"""The last bar (30 s or more) ends here."""
_TICKS_S: Final = (0.1, 0.2, 0.5, 1, 2, 5, 7, 12, 20, 30)
_STATES: Final = (
    ("answering_minutes", "up and answering", "#55a868", ""),
    ("failing_minutes", "up and failing", "#c44e52", ""),
    ("not_running_minutes", "not running", "#6b2c2c", ""),
    ("no_evidence_minutes", "no evidence (not measured)", "#d0d0d0", "//"),
    ("not_yet_minutes", "not yet happened (not measured)", "#ffffff", ""),
)


def _style() -> contextlib.AbstractContextManager[None]:
    return mpl.rc_context(
        {
            "svg.hashsalt": "ssbtek-monthly-report",
            "svg.fonttype": "none",
            "font.size": 9,
            "font.family": "DejaVu Sans",  # shipped with matplotlib: no font look-up
        }
    )


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with _style():
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue and doctype


def data_uri(svg: str) -> str:
    """The SVG as a ``data:`` URI for an ``<img>``: self-contained, and its ids cannot clash
    with another chart's on the same page."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def latency_chart(bins: Sequence[HistogramBin]) -> str | None:
    """How many answers took how long (less 1.5 s per extra subject), on a log scale of
    seconds, against 7 s and 12 s. ``None`` when there is no answer to draw."""
    if not any(b.count for b in bins):
        return None
    with _style():
        figure = Figure(figsize=(7.5, 3.2))
        axes = figure.add_subplot()
        lefts = [max(b.lower_ms / 1000, LOWEST_S) for b in bins]
        rights = [HIGHEST_S if b.upper_ms is None else b.upper_ms / 1000 for b in bins]
        counts = [b.count for b in bins]
        widths = [right - left for left, right in zip(lefts, rights, strict=True)]
        bars = axes.bar(
            lefts, counts, width=widths, align="edge", color="#4c72b0", edgecolor="white"
        )
        axes.bar_label(bars, labels=[str(c) if c else "" for c in counts], fontsize=7)
        axes.axvline(7, color="#dd8452", linestyle="--", label="7 s: 90 % of answers")
        axes.axvline(12, color="#c44e52", linestyle="-", label="12 s: every answer")
        axes.set_xscale("log")
        axes.set_xlim(LOWEST_S, HIGHEST_S)
        axes.xaxis.set_major_locator(FixedLocator(_TICKS_S))
        axes.xaxis.set_minor_locator(NullLocator())
        axes.set_xticklabels([f"{t:g}" for t in _TICKS_S])
        axes.set_ylim(0, max(counts) * 1.15)
        axes.set_xlabel(
            "query time, seconds, log scale (less 1.5 s per extra subject; "
            "first bar: under 0.1 s, last: 30 s or more)"
        )
        axes.set_ylabel("answers")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title("Latency distribution of answered queries")
        axes.legend(loc="upper left")
        return _svg(figure)


def availability_chart(days: Sequence[DayAvailability]) -> str | None:
    """Each working day's opening hours by what the evidence shows. ``None`` when no minute
    of the month was measured."""
    if not any(day.measured_minutes for day in days):
        return None
    with _style():
        figure = Figure(figsize=(7.5, 3.2))
        axes = figure.add_subplot()
        labels = [day.day.strftime("%d") for day in days]
        bottom = [0.0] * len(days)
        for field, label, colour, hatch in _STATES:
            hours = [getattr(day, field) / 60 for day in days]
            axes.bar(
                labels,
                hours,
                bottom=bottom,
                color=colour,
                edgecolor="#999999",
                linewidth=0.4,
                hatch=hatch,
                label=label,
            )
            bottom = [b + h for b, h in zip(bottom, hours, strict=True)]
        axes.set_ylim(0, 9)
        axes.set_xlabel("working day")
        axes.set_ylabel("opening hours (08:00-17:00)")
        axes.set_title("Opening hours per working day, by what the evidence shows")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False)
        return _svg(figure)
