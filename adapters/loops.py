"""Event loops on threads of their own, and running a coroutine on another loop (ADR 26,
amended).

``ssbtek serve`` takes, refuses and answers calls (gRPC, SOAP) on a ``ServerLoop``, whose turns
hold nothing but that work; the application (the saga, the providers, the stores, the
background roles) lives on the process's main loop. What crosses is one coroutine at a
time (``run_on``), in the call's ``contextvars``, with the caller's cancellation.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import time
from collections.abc import Awaitable, Coroutine
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Runs(Protocol):
    """Runs a coroutine of the application's where the application lives; its result here."""

    def __call__(self, coroutine: Coroutine[Any, Any, T]) -> Awaitable[T]: ...


async def here(coroutine: Coroutine[Any, Any, T]) -> T:
    """The application is on this loop: just await it."""
    return await coroutine


class ServerLoop:
    """An event loop running on a thread of its own, for the servers (gRPC, SOAP).

    ``run`` (from another loop) runs a coroutine on it and waits for its result; ``close``
    stops the loop and joins the thread. grpc.aio objects belong to the loop they were made
    on: build, start and stop a server through ``run``."""

    def __init__(self, name: str = "servers") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's loop; its result, or its exception, here."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def cpu_seconds(self) -> float:
        """The CPU time the server's thread has used (0 once it has ended)."""
        ident = self._thread.ident
        if ident is None or not self._thread.is_alive():
            return 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (OSError, ProcessLookupError):  # it ended between the check and here
            return 0.0

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


class OnLoop:
    """Runs each coroutine it is given on ``loop``, in the calling task's context."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def __call__(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await run_on(self._loop, contextvars.copy_context(), coroutine)


def start_on(
    loop: asyncio.AbstractEventLoop,
    call: contextvars.Context,
    coroutine: Coroutine[Any, Any, Any],
) -> asyncio.Task[Any]:
    return loop.create_task(coroutine, context=call)


async def run_on(
    loop: asyncio.AbstractEventLoop,
    call: contextvars.Context,
    coroutine: Coroutine[Any, Any, T],
) -> T:
    """``coroutine`` run on ``loop`` in the call's context; cancelled there when the call
    is cancelled here."""
    result: concurrent.futures.Future[T] = concurrent.futures.Future()
    started: list[asyncio.Task[T]] = []

    def finished(task: asyncio.Task[T]) -> None:
        if task.cancelled():
            result.cancel()
            return
        try:
            if (error := task.exception()) is not None:
                result.set_exception(error)
            else:
                result.set_result(task.result())
        except concurrent.futures.InvalidStateError:  # cancelled from the caller's side
            pass

    def start() -> None:
        if result.cancelled():
            coroutine.close()
            return
        task = start_on(loop, call, coroutine)
        started.append(task)
        task.add_done_callback(finished)

    def left(future: concurrent.futures.Future[T]) -> None:
        if future.cancelled():
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in started])

    result.add_done_callback(left)
    loop.call_soon_threadsafe(start)
    return await asyncio.wrap_future(result)
