"""Paced background work: after each piece, a pause in proportion to the piece."""

from __future__ import annotations

import pytest

from application.pacing import Pacer


class Timeline:
    """A fake clock; ``sleep`` records the pause and moves the clock on."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_pieces_take_at_most_the_duty_share_of_the_time() -> None:
    timeline = Timeline()
    pace = Pacer(0.25, clock=timeline.clock, sleep=timeline.sleep)
    for took in (0.004, 0.002, 0.004):
        timeline.now += took  # a piece of work
        pace()
    assert timeline.pauses == pytest.approx([0.012, 0.006, 0.012])
    assert timeline.now - 100.0 == pytest.approx(0.010 / 0.25)


def test_the_pause_is_measured_from_the_end_of_the_last_pause() -> None:
    timeline = Timeline()
    pace = Pacer(0.5, clock=timeline.clock, sleep=timeline.sleep)
    timeline.now += 0.010
    pace()
    timeline.now += 0.001
    pace()
    assert timeline.pauses == pytest.approx([0.010, 0.001])


def test_a_full_duty_never_pauses() -> None:
    timeline = Timeline()
    pace = Pacer(1.0, clock=timeline.clock, sleep=timeline.sleep)
    timeline.now += 0.5
    pace()
    assert timeline.pauses == [0.0]


@pytest.mark.parametrize("duty", [0.0, -0.5, 1.5])
def test_a_duty_outside_0_to_1_is_refused(duty: float) -> None:
    with pytest.raises(ValueError, match="duty"):
        Pacer(duty)
