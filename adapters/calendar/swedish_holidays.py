"""Swedish public holidays from the maintained ``holidays`` library.

Categories ``public`` (the red days of the Act on public holidays) and ``de_facto``
(Midsummer Eve, Christmas Eve, New Year's Eve: days no agency or support desk works).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _year(year: int) -> frozenset[dt.date]:
    calendar = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    return frozenset(calendar.keys())


class SwedishHolidays:
    def is_holiday(self, day: dt.date) -> bool:
        return day in _year(day.year)
