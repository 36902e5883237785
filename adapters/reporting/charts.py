"""The report's charts, drawn by matplotlib as SVG text to inline in the HTML page.

No pyplot: each chart is its own ``Figure`` (no global state, safe in a worker thread). The
SVG carries no creation date and fixed element ids, so the same report draws the same bytes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from application.audit.report_model import (
    AVAILABILITY_TARGET_PERCENT,
    DayAvailability,
    HistogramBin,
)


def _style() -> contextlib.AbstractContextManager[None]:
    return mpl.rc_context(
        {"svg.hashsalt": "ssbtek-monthly-report", "svg.fonttype": "none", "font.size": 9}
    )


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with _style():
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue and doctype: inline SVG


def latency_chart(bins: Sequence[HistogramBin]) -> str:
    """How many answers took how long (less 1.5 s per extra subject), against 7 s and 12 s."""
    with _style():
        figure = Figure(figsize=(7.5, 3.0))
        axes = figure.add_subplot()
        lefts = [b.lower_ms / 1000 for b in bins]
        widths = [((b.upper_ms or b.lower_ms + 500) - b.lower_ms) / 1000 for b in bins]
        axes.bar(lefts, [b.count for b in bins], width=widths, align="edge", color="#4c72b0")
        axes.axvline(7, color="#dd8452", linestyle="--", label="7 s: 90 % of answers")
        axes.axvline(12, color="#c44e52", linestyle="-", label="12 s: every answer")
        axes.set_xlabel(
            "query time, seconds (less 1.5 s per extra subject; last bar: 20 s or more)"
        )
        axes.set_ylabel("answers")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title("Latency distribution of answered queries")
        axes.legend(loc="upper right")
        return _svg(figure)


def availability_chart(days: Sequence[DayAvailability]) -> str:
    """Availability per working day within opening hours, against the 90 % target."""
    with _style():
        figure = Figure(figsize=(7.5, 3.0))
        axes = figure.add_subplot()
        labels = [day.day.strftime("%d") for day in days]
        values = [day.percentage for day in days]
        colours = ["#55a868" if v >= AVAILABILITY_TARGET_PERCENT else "#c44e52" for v in values]
        axes.bar(labels, values, color=colours)
        axes.axhline(
            AVAILABILITY_TARGET_PERCENT, color="#333333", linestyle="--", label="90 % target"
        )
        axes.set_ylim(0, 100)
        axes.set_xlabel("working day")
        axes.set_ylabel("available, % of opening minutes")
        axes.set_title("Daily availability within opening hours (08:00-17:00)")
        axes.legend(loc="lower right")
        return _svg(figure)
