"""Admission control (ADR 26): the adaptive limit, fair shares, RetryInfo from the drain rate."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from application.admission import REASON, Admission, AdmissionSettings, Permit, Quota
from application.errors import OverloadedError

FLOODS = [f"flood-{i:02d}" for i in range(20)]
QUIET = "quiet"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Refusals:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def admission_refused(self, quota: str, entry_point: str) -> None:
        self.seen.append((quota, entry_point))


def control(
    clock: Clock | None = None, metrics: Refusals | None = None, **settings: object
) -> Admission:
    return Admission(
        AdmissionSettings(**settings),  # type: ignore[arg-type]
        monotonic=clock or Clock(),
        metrics=metrics,
        jitter=lambda: 0.5,  # the middle: no jitter
    )


def refused(admission: Admission, organisation: str) -> OverloadedError:
    with pytest.raises(OverloadedError) as error:
        admission.admit(organisation, "GRPC")
    return error.value


def test_below_the_limit_every_query_is_admitted_and_counted_until_released() -> None:
    admission = control(ceiling=100, adaptive=False)
    permits = [admission.admit("a", "GRPC") for _ in range(10)]
    assert admission.in_progress == 10
    for permit in permits:
        permit.release()
        permit.release()  # twice is once
    assert admission.in_progress == 0


def test_at_the_limit_a_query_is_refused_at_once_with_its_quota_and_counted() -> None:
    metrics = Refusals()
    admission = control(metrics=metrics, ceiling=10, adaptive=False)
    assert admission.limit == 9  # the ceiling less a tenth, kept for the fair shares
    permits = [admission.admit("a", "GRPC") for _ in range(9)]  # one organisation alone
    error = refused(admission, "a")
    assert error.reason == REASON
    assert error.quota == Quota.SERVICE_LIMIT
    assert error.limit == 9
    assert metrics.seen == [("SERVICE_LIMIT", "GRPC")]
    permits[0].release()
    admission.admit("a", "GRPC")  # room again


def test_the_ceiling_is_never_passed_whatever_the_shares() -> None:
    admission = control(ceiling=10, adaptive=False)
    admitted: list[Permit] = []
    for organisation in ("a", "b", "c", "d") * 10:
        with contextlib.suppress(OverloadedError):
            admitted.append(admission.admit(organisation, "GRPC"))
    assert admission.in_progress == len(admitted) <= 10


def test_twenty_flooding_organisations_cannot_starve_a_quiet_one() -> None:
    """Five seconds in steps of 10 ms: twenty floods asking 10 times a step each, a quiet
    organisation 3 times a second; every query holds its slot 0.5 s."""
    clock = Clock()
    admission = control(clock, ceiling=100, adaptive=False)  # limit 90
    held: list[tuple[float, Permit]] = []
    quiet_outcomes: list[bool] = []
    floods_refused = 0
    for step in range(500):
        clock.t += 0.01
        while held and held[0][0] <= clock.t:
            held.pop(0)[1].release()
        for flood in FLOODS * 10:
            try:
                held.append((clock.t + 0.5, admission.admit(flood, "GRPC")))
            except OverloadedError:
                floods_refused += 1
        if step % 33 == 0:
            try:
                held.append((clock.t + 0.5, admission.admit(QUIET, "GRPC")))
                quiet_outcomes.append(True)
            except OverloadedError:
                quiet_outcomes.append(False)
        held.sort(key=lambda item: item[0])
        assert admission.in_progress <= 100
    assert quiet_outcomes == [True] * 16
    assert floods_refused > 0
    error = refused(admission, FLOODS[0])
    assert error.quota == Quota.ORGANISATION_SHARE


def test_shares_are_equal_when_the_limit_binds_and_work_conserving_when_it_does_not() -> None:
    clock = Clock()
    admission = control(clock, ceiling=100, adaptive=False)  # limit 90
    alone = [admission.admit("a", "GRPC") for _ in range(90)]
    assert len(alone) == 90  # alone, it may use the whole limit
    for permit in alone:
        permit.release()
    counts = {"a": 0, "b": 0, "c": 0}
    for _ in range(200):  # three organisations asking in turn, none releasing
        for organisation in counts:
            try:
                admission.admit(organisation, "GRPC")
                counts[organisation] += 1
            except OverloadedError:
                pass
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(counts.values()) <= 100


def test_an_organisation_that_stopped_asking_leaves_the_shares_after_the_window() -> None:
    clock = Clock()
    admission = control(clock, ceiling=100, adaptive=False, asking_window_s=2.0)
    admission.admit("b", "GRPC").release()
    clock.t += 5.0
    permits = [admission.admit("a", "GRPC") for _ in range(90)]  # the whole limit again
    assert len(permits) == 90


def test_the_limit_shrinks_when_the_loop_is_late_and_grows_back_when_in_use() -> None:
    clock = Clock()
    admission = control(clock, ceiling=400, initial=100, delay_target_s=0.01, minimum=8)
    clock.t += 0.05
    admission.observe(0.05)  # late: saturated
    assert admission.limit == 90
    for _ in range(100):
        clock.t += 0.05
        admission.observe(0.2)
    assert admission.limit == 8  # never below the minimum
    permits = [admission.admit("a", "GRPC") for _ in range(8)]
    clock.t += 0.05
    admission.observe(0.001)  # on time, and the limit was in use: it grows
    assert admission.limit == 9
    for permit in permits:
        permit.release()
    clock.t += 0.05
    admission.observe(0.001)  # the interval in which they were still held
    idle_limit = admission.limit
    for _ in range(10):
        clock.t += 0.05
        admission.observe(0.001)  # on time but idle: no reason to grow
    assert admission.limit == idle_limit


def test_the_limit_never_grows_past_the_ceiling_less_its_reserve() -> None:
    clock = Clock()
    admission = control(clock, ceiling=20, initial=17, delay_target_s=0.01)
    permits = [admission.admit("a", "GRPC") for _ in range(17)]
    for _ in range(10):
        clock.t += 0.05
        admission.observe(0.0)
    assert admission.limit == 18
    assert permits


def test_a_fixed_limit_does_not_move() -> None:
    clock = Clock()
    admission = control(clock, ceiling=50, adaptive=False)
    clock.t += 0.05
    admission.observe(1.0)
    assert admission.limit == 45


def test_retry_after_is_the_time_to_drain_what_is_in_progress_at_the_measured_rate() -> None:
    clock = Clock()
    admission = control(clock, ceiling=1000, adaptive=False)
    for _ in range(30):  # a steady state: 100 queries finish a second, 50 in progress
        permits = [admission.admit("a", "GRPC") for _ in range(5)]
        for permit in permits:
            permit.release()
        clock.t += 0.05
        admission.observe(0.0)
    assert admission.drain_per_s == pytest.approx(100, rel=0.01)
    held = [admission.admit("a", "GRPC") for _ in range(50)]
    assert admission.retry_after_s() == pytest.approx(0.5, rel=0.02)
    assert held


def test_retry_after_has_jitter_and_bounds() -> None:
    clock = Clock()
    draws = iter([0.0, 0.999])
    admission = Admission(
        AdmissionSettings(ceiling=100, adaptive=False, retry_min_s=0.05, retry_max_s=10.0),
        monotonic=clock,
        jitter=lambda: next(draws),
    )
    assert admission.retry_after_s() == 0.05  # nothing in progress: the minimum
    admission.admit("a", "GRPC")
    assert admission.retry_after_s() == 10.0  # something in progress, nothing drained yet


def test_the_refusal_carries_the_retry_delay() -> None:
    admission = control(ceiling=1, adaptive=False)
    admission.admit("a", "GRPC")
    error = refused(admission, "b")
    assert error.retry_after_s is not None
    assert 0.05 <= error.retry_after_s <= 10.0


async def test_the_watch_measures_the_running_loop_and_stops_on_close() -> None:
    admission = Admission(
        AdmissionSettings(ceiling=400, initial=100, interval_s=0.01, delay_target_s=0.005),
        monotonic=asyncio.get_running_loop().time,
    )
    admission.watch()
    admission.watch()  # once
    await asyncio.sleep(0.03)
    time.sleep(0.05)  # noqa: ASYNC251 (the point: the loop runs late, and the limit shrinks)
    await asyncio.sleep(0.03)
    assert admission.limit < 100
    admission.close()


def test_a_busy_event_loop_shrinks_the_limit_even_when_it_is_on_time() -> None:
    """Short turns can hide a loop that has no time left to take new calls from grpc."""
    clock = Clock()
    admission = control(clock, ceiling=400, initial=100, busy_target=0.8)
    clock.t += 0.05
    admission.observe(0.0, busy_share=0.95)
    assert admission.limit == 90
    permits = [admission.admit("a", "GRPC") for _ in range(90)]
    clock.t += 0.05
    admission.observe(0.0, busy_share=0.5)  # time to spare again, and the limit in use
    assert admission.limit == 91
    assert permits
