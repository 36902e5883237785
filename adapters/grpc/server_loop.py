"""The gRPC server on an event loop of its own; the application on the process's main loop
(ADR 26, amended).

Why: grpc.aio takes calls from the core through the event loop that runs the server, a few
turns of that loop per call. On a loop that also runs the queries (the saga, the providers,
the store), each turn is as long as all the work that is ready, so under load calls wait in
the core's backlog before any Python code sees them, admission control included, and a
refusal that costs microseconds arrives seconds late. Measured on a bare grpc.aio server:
with the loop busy in 1 ms slices, it refused at most about 200 calls a second (p50 1.7 s at
400 a second); with the server on its own loop beside the same work, 400 a second were
refused with p99 7 ms (``bench/README.md``, accept_path).

So the server, its interceptors (the access log, identity, admission, authorisation), health
and reflection run on a ``adapters.loops.ServerLoop``'s thread, whose turns hold nothing but taking,
refusing and answering calls; each method of the service's own servicers (``ssbtek.*``) runs
on the application's loop (``OnApplicationLoop``), where all the application's objects live.
The two threads share the GIL: the server's thread asks for it only when grpc has something
for it, and gets it within the interpreter's switch interval.

Only the servicers cross: they use the call's context only to read it
(``time_remaining``, the caller's certificate), and report by raising application errors,
which come back to the server's loop and are mapped there. The caller that
``identity.CallerInterceptor`` proved goes with them (the call's ``contextvars``).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, Final, TypeVar, cast

import grpc

from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, service_of
from adapters.loops import OnLoop, start_on

T = TypeVar("T")

APPLICATION_SERVICES: Final = "ssbtek."
"""The services whose methods run on the application's loop; grpc's own (health,
reflection) stay on the server's."""


class OnApplicationLoop(MethodInterceptor):
    """Innermost interceptor: runs each method of the service's own servicers on
    ``application``'s loop, and its result (or error) back on the server's loop.

    A client that leaves cancels the call there as well; a streaming answer is produced
    there at most ``_Stream.WINDOW`` items ahead of what the client has been sent."""

    def __init__(self, application: asyncio.AbstractEventLoop) -> None:
        self._application = application
        self._run = OnLoop(application)

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        if not service_of(method).startswith(APPLICATION_SERVICES):
            return handler
        if handler.request_streaming:
            raise TypeError(f"{method}: a streamed request cannot cross to the application")
        if handler.unary_unary is not None:
            behaviour: Any = handler.unary_unary  # a coroutine function on a grpc.aio server
            return grpc.unary_unary_rpc_method_handler(
                self._unary(behaviour),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if not inspect.isasyncgenfunction(handler.unary_stream):
            raise TypeError(f"{method}: a streaming answer must be an async generator")
        return grpc.unary_stream_rpc_method_handler(
            self._streaming(handler.unary_stream),
            handler.request_deserializer,
            handler.response_serializer,
        )

    def _unary(
        self, behaviour: Callable[[Any, Context], Awaitable[Any]]
    ) -> Callable[[Any, Context], Awaitable[Any]]:
        run = self._run

        async def answered(request: Any, context: Context) -> Any:
            return await run(_awaited(behaviour(request, context)))

        return answered

    def _streaming(
        self, behaviour: Callable[[Any, Context], AsyncIterator[Any]]
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        loop = self._application

        async def streamed(request: Any, context: Context) -> AsyncIterator[Any]:
            call = contextvars.copy_context()
            stream = _Stream(loop, asyncio.get_running_loop())
            loop.call_soon_threadsafe(stream.start, call, behaviour(request, context))
            try:
                while True:
                    more, item = await stream.next()
                    if not more:
                        return
                    yield item
            finally:
                stream.stop()  # the client left, or it ended: the producer ends there too

        return streamed


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _Stream:
    """A streamed answer produced on the application's loop and taken on the server's.

    The producer runs the servicer's async generator in one task on the application's loop
    and hands each item over as it comes (no round trip per item), at most ``WINDOW`` ahead
    of what the server has sent on: a slow client holds the producer back. The generator is
    closed in its own task, on its own loop: when it ends, fails, or the call is stopped."""

    WINDOW: Final = 32

    def __init__(
        self, application: asyncio.AbstractEventLoop, server: asyncio.AbstractEventLoop
    ) -> None:
        self._application = application
        self._server = server
        self._items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()  # the server's loop
        self._room: asyncio.Semaphore | None = None  # the application's loop
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    # --- on the application's loop -------------------------------------------------------

    def start(self, call: contextvars.Context, items: AsyncIterator[Any]) -> None:
        if self._stopped:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                start_on(self._application, call, aclose())
            return
        self._room = asyncio.Semaphore(self.WINDOW)
        self._task = start_on(self._application, call, self._produce(items))

    async def _produce(self, items: AsyncIterator[Any]) -> None:
        assert self._room is not None
        hand = self._server.call_soon_threadsafe
        try:
            async with aclosing(cast(AsyncGenerator[Any, None], items)) as produced:
                async for item in produced:
                    await self._room.acquire()
                    hand(self._items.put_nowait, ("item", item))
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            hand(self._items.put_nowait, ("error", error))
            return
        hand(self._items.put_nowait, ("end", None))

    def _taken(self) -> None:
        if self._room is not None:
            self._room.release()

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # --- on the server's loop ------------------------------------------------------------

    async def next(self) -> tuple[bool, Any]:
        kind, value = await self._items.get()
        if kind == "error":
            raise value
        if kind == "end":
            return False, None
        self._application.call_soon_threadsafe(self._taken)
        return True, value

    def stop(self) -> None:
        self._stopped = True
        self._application.call_soon_threadsafe(self._cancel)
