"""Service levels of 004 Bilaga 4 § 3.7.1: how long an answer may take."""

from __future__ import annotations

import datetime as dt
from typing import Final

MAX_SUBJECTS: Final = 10
_EXTRA_SUBJECT = dt.timedelta(seconds=1.5)


def answer_target(subject_count: int) -> dt.timedelta:
    """The time within which at least 90 % of answers must leave: 7 s + 1.5 s per extra subject."""
    return dt.timedelta(seconds=7) + _EXTRA_SUBJECT * (_bounded(subject_count) - 1)


def answer_limit(subject_count: int) -> dt.timedelta:
    """The time within which the remaining 10 % must leave: 12 s + 1.5 s per extra subject."""
    return dt.timedelta(seconds=12) + _EXTRA_SUBJECT * (_bounded(subject_count) - 1)


def _bounded(subject_count: int) -> int:
    if not 1 <= subject_count <= MAX_SUBJECTS:
        raise ValueError(f"a query covers 1 to {MAX_SUBJECTS} subjects")
    return subject_count
