"""Dates and times as a person in Sweden types them on the ``ssbtek`` command line.

A day is ``YYYY-MM-DD`` (ISO 8601, the Swedish standard form), or ``YYYYMMDD``, or a word:
``today``/``idag``, ``tomorrow``/``imorgon``, ``yesterday``/``igår`` (the day in Stockholm).
A moment is a day and a time, ``YYYY-MM-DDTHH:MM`` or ``YYYY-MM-DD HH:MM`` (seconds
optional), in Stockholm time unless it ends with ``Z`` or an offset such as ``+01:00``.
``03/12/2026`` is refused: day-first or month-first cannot be told apart. Each parser is an
argparse ``type``, so a bad value ends the command with one line naming the option.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # protobuf only when a value is converted: ``--help`` stays light
    from google.protobuf.timestamp_pb2 import Timestamp
    from google.type.date_pb2 import Date

STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
"""``domain.providers.STOCKHOLM`` itself (``ZoneInfo`` keeps one object per key), without
importing the domain's attrs classes into the command's parser."""

DAY_HELP: Final = (
    "YYYY-MM-DD (also YYYYMMDD, or today/idag, tomorrow/imorgon, yesterday/igår in Stockholm)"
)
MOMENT_HELP: Final = "YYYY-MM-DD HH:MM (or with a T; the day also YYYYMMDD or a word, e.g. imorgon)"
UTC_MOMENT_HELP: Final = "YYYY-MM-DD HH:MM (or with a T), UTC unless it ends with +HH:MM"
_WORDS: Final = {
    "today": 0,
    "idag": 0,
    "i dag": 0,
    "tomorrow": 1,
    "imorgon": 1,
    "i morgon": 1,
    "yesterday": -1,
    "igår": -1,
    "i går": -1,
}


def day(text: str) -> dt.date:
    """A calendar day (see the module docstring); ``ArgumentTypeError`` says what to type."""
    word = " ".join(text.lower().split())
    if word in _WORDS:
        return dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=_WORDS[word])
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", word)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-12-03 (also YYYYMMDD, today, "
            "tomorrow, yesterday, idag, imorgon, igår)"
        )
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: there is no such day") from None


def date(text: str) -> Date:
    """A day as the ``google.type.Date`` the API takes."""
    from google.type.date_pb2 import Date

    parsed = day(text)
    return Date(year=parsed.year, month=parsed.month, day=parsed.day)


def moment(text: str, zone: dt.tzinfo = STOCKHOLM) -> dt.datetime:
    """A day and a time (see the module docstring), in ``zone`` unless it names its own."""
    where = "Stockholm time" if zone is STOCKHOLM else "UTC"
    match = re.fullmatch(r"(.+?)[T ](\d{1,2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:?\d{2})?", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: use YYYY-MM-DD HH:MM, e.g. 2027-01-08 18:00 "
            f"({where} unless it ends with Z or +HH:MM)"
        )
    on, clock, offset = match.groups()
    try:
        time = dt.time.fromisoformat(clock.rjust(len(clock) + 1, "0") if clock[1] == ":" else clock)
        parsed = dt.datetime.combine(day(on), time)
        if offset:
            parsed = dt.datetime.fromisoformat(
                f"{parsed.isoformat()}{offset.replace('Z', '+00:00')}"
            )
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: there is no such time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def utc_moment(text: str) -> dt.datetime:
    """A moment in UTC unless it names its zone (the audit trail's times are UTC)."""
    return moment(text, dt.UTC)


def timestamp(text: str) -> Timestamp:
    """A moment as the ``google.protobuf.Timestamp`` the API takes."""
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromDatetime(moment(text))
    return stamp
