"""The monthly report as a JSON document (cattrs): the one shape the CLI and gRPC give.

Times are ISO 8601 in Stockholm time, counts are integers, shares are percentages rounded to
3 decimals (``null`` without data), and a section without a wired data source is the string
``"no data source"``. ``report_json`` is the text both the CLI and ``GetReport`` give.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final

import attrs
import cattrs

from application.audit.report_model import DayAvailability, Month, MonthlyReport
from domain.providers import STOCKHOLM

NO_DATA_SOURCE: Final = "no data source"

_converter = cattrs.Converter()
_converter.register_unstructure_hook(dt.datetime, lambda m: m.astimezone(STOCKHOLM).isoformat())
_converter.register_unstructure_hook(dt.date, lambda d: d.isoformat())
_converter.register_unstructure_hook(Month, str)
_converter.register_unstructure_hook(float, lambda x: round(x, 3))
_converter.register_unstructure_hook(
    DayAvailability,
    lambda day: {
        **{field.name: getattr(day, field.name) for field in attrs.fields(DayAvailability)},
        "day": day.day.isoformat(),
        "measured_minutes": day.measured_minutes,
        "unavailable_minutes": day.unavailable_minutes,
        "percentage": None if day.percentage is None else round(day.percentage, 3),
    },
)


def report_to_dict(report: MonthlyReport) -> dict[str, Any]:
    document: dict[str, Any] = _converter.unstructure(report)
    for section in ("incidents", "problems", "planned_changes"):
        if document[section] is None:
            document[section] = NO_DATA_SOURCE
    if not report.availability.recorded_outages_source:
        document["availability"]["recorded_outages"] = NO_DATA_SOURCE
    return document


def report_json(report: MonthlyReport) -> str:
    """The document as JSON text (integers stay integers, unlike in a protobuf ``Struct``)."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
