"""A circuit breaker in front of the event store, so an outage costs callers milliseconds.

The eventsourcing library's PostgreSQL recorder retries a failed operation ten times,
each waiting for a pooled connection: right for a blip, far too slow for a query while
the database is down. The gate times the first, small write each query makes (its
``Received`` event); when it fails or takes too long the gate opens: new queries are
refused at once (UNAVAILABLE) and ONE background probe retries the store until it
answers, then the gate closes. Only that first write is ever cut short (if it lands
late, the recovery step closes the query as abandoned); the save before an answer is
always awaited to its end, so no answer leaves without its audit events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class StoreUnavailableError(Exception):
    """The store did not answer in time, or the gate is open."""


class StoreGate:
    def __init__(
        self, probe: Callable[[], object], *, read_timeout_s: float, probe_interval_s: float
    ) -> None:
        self._probe = probe
        self._read_timeout_s = read_timeout_s
        self._probe_interval_s = probe_interval_s
        self._open = False
        self._prober: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        return self._open

    async def guarded(
        self, operation: Callable[[], T], *, passthrough: tuple[type[Exception], ...] = ()
    ) -> T:
        """Run ``operation`` in a worker thread within the time limit, or refuse at once.

        Exceptions in ``passthrough`` are answers, not outages (a conflict, say): they are
        re-raised and leave the gate closed.
        """
        if self._open:
            raise StoreUnavailableError
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def run() -> T:
            loop.call_soon_threadsafe(started.set)
            return operation()

        # The time limit counts from when a worker thread starts the operation, not while it
        # waits for a free thread: a burst of queries is not an outage.
        call = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            await started.wait()
            async with asyncio.timeout(self._read_timeout_s):
                return await asyncio.shield(call)
        except passthrough:
            raise
        except Exception as error:
            self.trip(type(error).__name__)
            raise StoreUnavailableError from None

    async def guarded_async(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        passthrough: tuple[type[Exception], ...] = (),
    ) -> T:
        """The same for an operation that is already asynchronous (a group commit)."""
        if self._open:
            raise StoreUnavailableError
        try:
            async with asyncio.timeout(self._read_timeout_s):
                return await operation()
        except passthrough:
            raise
        except Exception as error:
            self.trip(type(error).__name__)
            raise StoreUnavailableError from None

    def trip(self, reason: str) -> None:
        """Open the gate and start the one probe that will close it again."""
        if self._open:
            return
        log.error("event store unavailable (%s): refusing queries until it answers", reason)
        self._open = True
        self._prober = asyncio.get_running_loop().create_task(self._probe_until_healthy())

    async def _probe_until_healthy(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval_s)
            try:
                await asyncio.to_thread(self._probe)
            except Exception as error:
                log.warning("event store still unavailable: %s", type(error).__name__)
                continue
            self._open = False
            log.warning("event store available again")
            return

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
