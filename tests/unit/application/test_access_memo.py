"""The access-decision memo (ADR 0014) on its own: fresh for the time, the day and the
generation it was read in; full means afresh; a time of 0 keeps no decision."""

from __future__ import annotations

import datetime as dt

from application.access_memo import AccessMemo, ProviderStanding
from application.ports import AccessDecision
from domain.providers import STOCKHOLM, Provider

NOW = dt.datetime(2026, 11, 25, 10, tzinfo=STOCKHOLM)
DAY = NOW.date()
ALLOWED = AccessDecision(None, True)


class FakeClock:
    """Monotonic time that moves only when told to."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now
        self._monotonic = 100.0

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta
        self._monotonic += delta.total_seconds()


def test_a_decision_is_reused_for_its_time_on_its_day_only() -> None:
    clock = FakeClock(NOW)
    memo = AccessMemo(clock, 1.0)
    memo.remember_decision("2120000142", "p1", DAY, memo.generation, ALLOWED)
    assert memo.decision("2120000142", "p1", DAY) == ALLOWED
    assert memo.decision("2120000142", "p2", DAY) is None
    assert memo.decision("2120000142", "p1", DAY + dt.timedelta(days=1)) is None
    clock.advance(dt.timedelta(seconds=0.999))
    assert memo.decision("2120000142", "p1", DAY) == ALLOWED
    clock.advance(dt.timedelta(seconds=0.001))
    assert memo.decision("2120000142", "p1", DAY) is None


def test_a_change_saved_meanwhile_forgets_a_decision_read_before_it() -> None:
    memo = AccessMemo(FakeClock(NOW), 1.0)
    read_in = memo.generation
    memo.forget_all()  # a save between the decision's reads and remembering it
    memo.remember_decision("2120000142", "p1", DAY, read_in, ALLOWED)
    assert memo.decision("2120000142", "p1", DAY) is None
    memo.remember_decision("2120000142", "p1", DAY, memo.generation, ALLOWED)
    assert memo.decision("2120000142", "p1", DAY) == ALLOWED
    memo.forget_all()
    assert memo.decision("2120000142", "p1", DAY) is None


def test_a_full_memo_starts_afresh_and_a_time_of_zero_keeps_nothing() -> None:
    memo = AccessMemo(FakeClock(NOW), 1.0, limit=2)
    for pseudonym in ("p1", "p2", "p3"):
        memo.remember_decision("2120000142", pseudonym, DAY, memo.generation, ALLOWED)
    assert memo.decision("2120000142", "p1", DAY) is None
    assert memo.decision("2120000142", "p3", DAY) == ALLOWED

    off = AccessMemo(FakeClock(NOW), 0)
    off.remember_decision("2120000142", "p1", DAY, off.generation, ALLOWED)
    assert off.decision("2120000142", "p1", DAY) is None


def test_the_provider_standing_is_remembered_like_a_decision() -> None:
    clock = FakeClock(NOW)
    memo = AccessMemo(clock, 1.0)
    standing = ProviderStanding({"2021005448": Provider.SKATTEVERKET}, frozenset())
    memo.remember_standing(DAY, memo.generation, standing)
    assert memo.standing(DAY) == standing
    assert memo.standing(DAY + dt.timedelta(days=1)) is None
    memo.forget_all()
    assert memo.standing(DAY) is None
