"""A circuit breaker in front of the event store, so an outage costs callers milliseconds,
and the one place that knows whether the store can be written now (ADR 23).

The gate opens (the store is DOWN) on the first sign of an outage: a gated write that fails
or does not finish within its time limit, or a failed probe. While it is open, new queries
are refused at once (UNAVAILABLE, before any provider is asked) and ONE background probe
tries the store every ``probe_interval_s`` until it answers; then the gate closes (UP).
While it is closed and no write has succeeded for ``watch_interval_s``, the watch probes the
store too, so an outage is seen within about ``watch_interval_s + probe_timeout_s`` even
when no query comes. A probe that does not answer within ``probe_timeout_s`` counts as
failed. Listeners (the health reporter, the metric) hear every change, at once.

Only the first write of a query is ever cut short (if it lands late, the retry rules close
the query, ADR 6); the save before an answer is bounded by the caller's deadline in the
store itself (``application.store_budget``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.store_budget import StoreDeadlinePassedError

log = logging.getLogger(__name__)

T = TypeVar("T")
Listener = Callable[[bool], None]
"""Called with ``True`` when the store can be written again, ``False`` when it cannot."""


class StoreUnavailableError(Exception):
    """The store did not answer in time, or the gate is open."""


class StoreGate:
    def __init__(
        self,
        probe: Callable[[], object],
        *,
        read_timeout_s: float,
        probe_interval_s: float,
        probe_timeout_s: float = 1.0,
        watch_interval_s: float = 0.5,
    ) -> None:
        self._probe = probe
        self._read_timeout_s = read_timeout_s
        self._probe_interval_s = probe_interval_s
        self._probe_timeout_s = probe_timeout_s
        self._watch_interval_s = watch_interval_s
        self._open = False
        self._prober: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._probing: asyncio.Future[object] | None = None
        self._last_success = time.monotonic()
        self._listeners: list[Listener] = []

    @property
    def is_open(self) -> bool:
        return self._open

    def add_listener(self, listener: Listener) -> None:
        """Hear every change of the store's state; called at once with the state now."""
        self._listeners.append(listener)
        listener(not self._open)

    def succeeded(self) -> None:
        """A store operation succeeded just now: no probe is needed for a while."""
        self._last_success = time.monotonic()

    def refuse_if_open(self) -> None:
        """Raise ``StoreUnavailableError`` at once while the store is known to be down."""
        if self._open:
            raise StoreUnavailableError

    async def guarded(
        self,
        operation: Callable[[], T],
        *,
        passthrough: tuple[type[Exception], ...] = (),
        timeout_s: float | None = None,
    ) -> T:
        """Run ``operation`` in a worker thread within the time limit, or refuse at once.

        Exceptions in ``passthrough`` are answers, not outages (a conflict, say): they are
        re-raised and leave the gate closed.
        """
        self.refuse_if_open()
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
            async with asyncio.timeout(self._limit(timeout_s)):
                result = await asyncio.shield(call)
        except passthrough:
            raise
        except Exception as error:
            self._failed(error, timeout_s)
            raise StoreUnavailableError from None
        self.succeeded()
        return result

    async def guarded_async(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        passthrough: tuple[type[Exception], ...] = (),
        timeout_s: float | None = None,
    ) -> T:
        """The same for an operation that is already asynchronous (a group commit)."""
        self.refuse_if_open()
        try:
            async with asyncio.timeout(self._limit(timeout_s)):
                result = await operation()
        except passthrough:
            raise
        except Exception as error:
            self._failed(error, timeout_s)
            raise StoreUnavailableError from None
        self.succeeded()
        return result

    def _failed(self, error: Exception, timeout_s: float | None) -> None:
        """An outage opens the gate; a caller's own short time limit does not."""
        caller_limited = timeout_s is not None and timeout_s < self._read_timeout_s
        if isinstance(error, StoreDeadlinePassedError) or (
            isinstance(error, TimeoutError) and caller_limited
        ):
            return
        self.trip(type(error).__name__)

    def _limit(self, timeout_s: float | None) -> float:
        return self._read_timeout_s if timeout_s is None else min(timeout_s, self._read_timeout_s)

    def trip(self, reason: str) -> None:
        """Open the gate and start the one probe that will close it again."""
        if self._open:
            return
        log.error("event store unavailable (%s): refusing queries until it answers", reason)
        self._open = True
        self._tell(False)
        self._prober = asyncio.get_running_loop().create_task(self._probe_until_healthy())

    def watch(self) -> None:
        """Start probing the store while it is up and idle (call in the running loop)."""
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._watch_interval_s)
            idle_s = time.monotonic() - self._last_success
            if self._open or idle_s < self._watch_interval_s:
                continue
            try:
                await self._probe_once()
            except Exception as error:
                self.trip(f"probe failed: {type(error).__name__}")
            else:
                self.succeeded()

    async def _probe_once(self) -> None:
        """One probe within ``probe_timeout_s``; never two at once (a stuck one counts)."""
        if self._probing is None or self._probing.done():
            self._probing = asyncio.ensure_future(asyncio.to_thread(self._probe))
            self._probing.add_done_callback(_retrieved)
        async with asyncio.timeout(self._probe_timeout_s):
            await asyncio.shield(self._probing)

    async def _probe_until_healthy(self) -> None:
        failed = 0
        while True:
            await asyncio.sleep(self._probe_interval_s)
            try:
                await self._probe_once()
            except Exception as error:
                failed += 1
                if failed in (1, 10) or failed % 60 == 0:  # not a line every half second
                    log.warning(
                        "event store still unavailable after %d probes: %s",
                        failed,
                        type(error).__name__,
                    )
                continue
            self._open = False
            self.succeeded()
            log.warning("event store available again")
            self._tell(True)
            return

    def _tell(self, available: bool) -> None:
        for listener in self._listeners:
            try:
                listener(available)
            except Exception:  # a listener's failure must not hide the store's state
                log.exception("a store state listener failed")

    async def close(self) -> None:
        for task in (self._prober, self._watcher):
            if task is not None:
                task.cancel()


def _retrieved(future: asyncio.Future[object]) -> None:
    """A probe that finished after its time limit: its outcome is read, not left to warn."""
    if not future.cancelled():
        future.exception()
