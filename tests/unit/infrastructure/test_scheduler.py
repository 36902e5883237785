"""The periodic task that lets the running service notice that time has passed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from infrastructure.scheduler import run_periodically


async def test_a_job_runs_at_once_and_then_every_interval_until_stopped() -> None:
    stop = asyncio.Event()
    runs: list[float] = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())
        if len(runs) == 3:
            stop.set()

    await asyncio.wait_for(run_periodically(0.01, job, stop), timeout=5)
    assert len(runs) == 3
    assert runs[2] - runs[0] >= 0.02


async def test_a_failing_job_is_logged_by_type_and_runs_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    calls = 0

    def job() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("19121212-1212 must never be logged")
        stop.set()

    with caplog.at_level(logging.ERROR, logger="infrastructure.scheduler"):
        await asyncio.wait_for(run_periodically(0.01, job, stop), timeout=5)
    assert calls == 2
    assert "RuntimeError" in caplog.text
    assert "19121212" not in caplog.text


async def test_setting_stop_ends_the_wait_at_once() -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_periodically(3600, lambda: None, stop))
    await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=1)
