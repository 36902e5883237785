from __future__ import annotations

import datetime as dt

import pytest

from domain.providers import PROFILES, STOCKHOLM, Provider
from domain.service_level import answer_limit, answer_target


@pytest.mark.parametrize(
    ("subjects", "target", "limit"), [(1, 7.0, 12.0), (2, 8.5, 13.5), (10, 20.5, 25.5)]
)
def test_answer_target_adds_one_and_a_half_seconds_per_extra_subject(
    subjects: int, target: float, limit: float
) -> None:
    assert answer_target(subjects).total_seconds() == target
    assert answer_limit(subjects).total_seconds() == limit


def test_more_than_ten_subjects_has_no_service_level() -> None:
    with pytest.raises(ValueError, match="1 to 10"):
        answer_target(11)


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        (dt.datetime(2026, 11, 25, 8, 0), True),  # Wednesday, opening minute
        (dt.datetime(2026, 11, 25, 16, 29), True),
        (dt.datetime(2026, 11, 25, 16, 30), False),  # closes at 16:30
        (dt.datetime(2026, 11, 25, 7, 59), False),
        (dt.datetime(2026, 11, 28, 12, 0), False),  # Saturday
        (dt.datetime(2026, 7, 1, 16, 15), True),  # summer time: still local hours
    ],
)
def test_transportstyrelsen_answers_weekdays_0800_to_1630_stockholm_time(
    local: dt.datetime, open_: bool
) -> None:
    moment = local.replace(tzinfo=STOCKHOLM).astimezone(dt.UTC)
    assert PROFILES[Provider.TRANSPORTSTYRELSEN].opening_hours.is_open_at(moment) is open_


def test_other_providers_are_always_open() -> None:
    saturday_night = dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC)
    assert PROFILES[Provider.SKATTEVERKET].opening_hours.is_open_at(saturday_night)
