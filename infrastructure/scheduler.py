"""A periodic task for the running service: "something must notice that time has passed".

The server starts one per scheduled job (the deadline check, following the query log):

    stop = asyncio.Event()
    task = asyncio.create_task(run_periodically(60, management.record_breaches, stop))
    ...
    stop.set(); await task

A job that fails is logged by its exception type only (its message might quote data) and
runs again at the next interval; the scheduler itself only ends when ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_periodically(
    interval_s: float, job: Callable[[], Awaitable[None] | None], stop: asyncio.Event
) -> None:
    """Run ``job`` at once and then every ``interval_s`` seconds until ``stop`` is set."""
    if interval_s <= 0:
        raise ValueError("the interval must be positive")
    name = getattr(job, "__qualname__", type(job).__name__)
    while not stop.is_set():
        try:
            result = job()
            if inspect.isawaitable(result):
                await result
        except Exception as error:
            log.error("scheduled job %s failed: %s", name, type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
