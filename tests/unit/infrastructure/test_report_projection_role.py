"""The background role that keeps the monthly report's counters (ADR 27): it counts in
bounded steps, goes straight on while there is more, and survives a failed step."""

from __future__ import annotations

import asyncio
import logging

import pytest

from infrastructure.service import _count_periodically


class _Follower:
    page = 10

    def __init__(self, results: list[int | Exception]) -> None:
        self.results = results
        self.calls: list[int | None] = []
        self.done = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def catch_up(self, *, max_pages: int | None = None) -> int:
        self.calls.append(max_pages)
        result = self.results.pop(0) if self.results else 0
        if not self.results:
            self.loop.call_soon_threadsafe(self.done.set)
        if isinstance(result, Exception):
            raise result
        return result


async def test_a_long_catch_up_runs_in_bounded_steps_one_after_the_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    follower = _Follower([20, 20, RuntimeError("store down"), 20, 5])
    task = asyncio.create_task(
        _count_periodically(follower, interval_s=0.01, pages=2)  # type: ignore[arg-type]
    )
    try:
        await asyncio.wait_for(follower.done.wait(), timeout=30)
        for _ in range(3000):  # until the step after the last one has logged
            if "caught up" in caplog.text:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert follower.calls[:5] == [2, 2, 2, 2, 2]
    assert "report projection step failed: RuntimeError" in caplog.text
    assert "report projection caught up: read 65 events" in caplog.text


async def test_while_caught_up_it_waits_its_interval() -> None:
    follower = _Follower([3])
    task = asyncio.create_task(
        _count_periodically(follower, interval_s=3600, pages=2)  # type: ignore[arg-type]
    )
    try:
        await asyncio.wait_for(follower.done.wait(), timeout=30)
        for _ in range(20):
            await asyncio.sleep(0)
    finally:
        task.cancel()
    assert follower.calls == [2]
