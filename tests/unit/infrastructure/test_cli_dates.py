from __future__ import annotations

import argparse
import datetime as dt

import pytest

from domain.providers import STOCKHOLM
from infrastructure.cli_dates import date, day, moment, timestamp, utc_moment


def today() -> dt.date:
    return dt.datetime.now(STOCKHOLM).date()


@pytest.mark.parametrize(
    ("typed", "offset_days"),
    [("today", 0), ("idag", 0), ("I dag", 0), ("imorgon", 1), ("tomorrow", 1), ("igår", -1)],
)
def test_the_words_a_swedish_user_types_are_days_in_stockholm(typed: str, offset_days: int) -> None:
    assert day(typed) == today() + dt.timedelta(days=offset_days)


@pytest.mark.parametrize("typed", ["2026-12-03", "20261203", " 2026-12-03 "])
def test_iso_and_compact_dates(typed: str) -> None:
    assert day(typed) == dt.date(2026, 12, 3)
    assert (date(typed).year, date(typed).month, date(typed).day) == (2026, 12, 3)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("03/12/2026", "use YYYY-MM-DD"),
        ("12/3", "use YYYY-MM-DD"),
        ("3 dec 2026", "use YYYY-MM-DD"),
        ("2026-02-30", "no such day"),
        ("", "use YYYY-MM-DD"),
    ],
)
def test_anything_else_is_refused_saying_what_to_type(typed: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        day(typed)


def test_a_moment_is_stockholm_time_unless_it_names_its_zone() -> None:
    assert moment("2027-01-08 18:00") == dt.datetime(2027, 1, 8, 18, tzinfo=STOCKHOLM)
    assert moment("2027-01-08T18:00:30") == dt.datetime(2027, 1, 8, 18, 0, 30, tzinfo=STOCKHOLM)
    assert moment("2027-07-08 9:05") == dt.datetime(2027, 7, 8, 9, 5, tzinfo=STOCKHOLM)
    assert moment("2027-01-08T17:00Z") == dt.datetime(2027, 1, 8, 17, tzinfo=dt.UTC)
    assert moment("2027-01-08 18:00+01:00") == dt.datetime(2027, 1, 8, 17, tzinfo=dt.UTC)
    assert moment("imorgon 08:00").date() == today() + dt.timedelta(days=1)
    assert utc_moment("2027-01-08 18:00") == dt.datetime(2027, 1, 8, 18, tzinfo=dt.UTC)
    assert timestamp("2027-01-08T17:00Z").ToDatetime() == dt.datetime(2027, 1, 8, 17)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("tomorrow", "is not a date and time: use YYYY-MM-DD HH:MM"),
        ("2027-01-08", "is not a date and time"),
        ("2027-01-08 25:00", "no such time"),
        ("03/12/2026 18:00", "use YYYY-MM-DD"),
    ],
)
def test_a_moment_without_a_time_or_with_a_bad_one_is_refused(typed: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        moment(typed)


def test_the_command_line_stockholm_is_the_domain_s_own_zone() -> None:
    from infrastructure import cli_dates

    assert cli_dates.STOCKHOLM is STOCKHOLM  # ``moment`` tells the zones apart by identity
