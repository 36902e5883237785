"""The gRPC server on an event loop of its own; the application on the process's main loop
(ADR 26, amended).

Why: grpc.aio takes calls from the core through the event loop that runs the server, a few
turns of that loop per call. On a loop that also runs the queries (the saga, the providers,
the store), each turn is as long as all the work that is ready, so under load calls wait in
the core's backlog before any Python code sees them, admission control included, and a
refusal that costs microseconds arrives seconds late. Measured on a bare grpc.aio server:
with the loop busy in 1 ms slices, it refused at most about 200 calls a second (p50 1.7 s at
400 a second); with the server on its own loop beside the same work, 400 a second were
refused with p99 7 ms (``bench/README.md``, overload).

So the server, its interceptors (the access log, identity, admission, authorisation), health
and reflection run on the ``ServerLoop``'s thread, whose turns hold nothing but taking,
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
import concurrent.futures
import contextvars
import inspect
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Final, TypeVar

import grpc

from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, service_of

T = TypeVar("T")

APPLICATION_SERVICES: Final = "ssbtek."
"""The services whose methods run on the application's loop; grpc's own (health,
reflection) stay on the server's."""


class ServerLoop:
    """An event loop running on a thread of its own, for the gRPC server.

    ``run`` (from another loop) runs a coroutine on it and waits for its result; ``close``
    stops the loop and joins the thread. grpc.aio objects belong to the loop they were made
    on: build, start and stop the server through ``run``."""

    def __init__(self, name: str = "grpc-server") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the server's loop; its result, or its exception, here."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def soon(self, coroutine: Coroutine[Any, Any, None]) -> concurrent.futures.Future[None]:
        """Start ``coroutine`` on the server's loop from any thread; do not wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

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


class OnApplicationLoop(MethodInterceptor):
    """Innermost interceptor: runs each method of the service's own servicers on
    ``application``'s loop, and its result (or error) back on the server's loop.

    A client that leaves cancels the call there as well; a streaming answer is taken one
    item at a time, so that nothing runs ahead of the client."""

    def __init__(self, application: asyncio.AbstractEventLoop) -> None:
        self._application = application

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
        loop = self._application

        async def answered(request: Any, context: Context) -> Any:
            call = contextvars.copy_context()
            return await _on(loop, call, _awaited(behaviour(request, context)))

        return answered

    def _streaming(
        self, behaviour: Callable[[Any, Context], AsyncIterator[Any]]
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        loop = self._application

        async def streamed(request: Any, context: Context) -> AsyncIterator[Any]:
            call = contextvars.copy_context()
            items = behaviour(request, context)
            steps = _Steps(items)
            try:
                while True:
                    more, item = await _on(loop, call, steps.next())
                    if not more:
                        return
                    yield item
            finally:
                # Closed on its own loop, after any step still running there has ended
                # (its cancellation included): never while it runs.
                loop.call_soon_threadsafe(_start, loop, call, steps.close())

        return streamed


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _Steps:
    """An async generator driven from another loop, one step at a time."""

    def __init__(self, items: AsyncIterator[Any]) -> None:
        self._items = items
        self._last: asyncio.Task[Any] | None = None

    async def next(self) -> tuple[bool, Any]:
        self._last = asyncio.current_task()
        try:
            return True, await anext(self._items)
        except StopAsyncIteration:
            return False, None

    async def close(self) -> None:
        last = self._last
        if last is not None and not last.done() and last is not asyncio.current_task():
            await asyncio.wait([last])
        aclose = getattr(self._items, "aclose", None)
        if aclose is not None:
            await aclose()


def _start(
    loop: asyncio.AbstractEventLoop,
    call: contextvars.Context,
    coroutine: Coroutine[Any, Any, Any],
) -> asyncio.Task[Any]:
    return loop.create_task(coroutine, context=call)


async def _on(
    loop: asyncio.AbstractEventLoop,
    call: contextvars.Context,
    coroutine: Coroutine[Any, Any, T],
) -> T:
    """``coroutine`` run on ``loop`` in the call's context; cancelled there when the call
    is cancelled here."""
    result: concurrent.futures.Future[T] = concurrent.futures.Future()
    started: list[asyncio.Task[T]] = []

    def finished(task: asyncio.Task[T]) -> None:
        if result.done():  # cancelled from the server's side already
            return
        if task.cancelled():
            result.cancel()
        elif (error := task.exception()) is not None:
            result.set_exception(error)
        else:
            result.set_result(task.result())

    def start() -> None:
        if result.cancelled():
            coroutine.close()
            return
        task = _start(loop, call, coroutine)
        started.append(task)
        task.add_done_callback(finished)

    def left(future: concurrent.futures.Future[T]) -> None:
        if future.cancelled():
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in started])

    result.add_done_callback(left)
    loop.call_soon_threadsafe(start)
    return await asyncio.wrap_future(result)
