"""One way to wrap a gRPC method's handler, for every server interceptor of the service.

A ``grpc.aio.ServerInterceptor`` gets the method's resolved ``RpcMethodHandler`` from its
continuation and returns another. Rebuilding one means handling four kinds of method
(unary or streaming request, unary or streaming response) and, for a streaming response,
two styles (an async generator, or a coroutine that calls ``context.write``), keeping the
(de)serializers. That is done here once; an interceptor says only what it adds:

- ``around``: an async context manager entered with the call's context before the handler
  runs and left when it ends (also by an error, an abort or the client's cancellation);
  ``before(check)`` makes one of a check that may refuse the call;
- ``each_request``: a check of each request, as it arrives, before the handler sees it;
- ``each_response``: a check before each answer of a streaming handler that yields them
  (e.g. that the caller may still have them);
- ``request_deserializer``: another deserializer for the request bytes.

``MethodInterceptor`` is the base of the service's interceptors: it resolves the handler and
hands it, with the method's full name, to ``wrap_method``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, TypeAlias

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # generic in the stubs only
Around = Callable[[Context], AbstractAsyncContextManager[object]]
RequestCheck = Callable[[Any, Context], Awaitable[None]]
ContextCheck = Callable[[Context], Awaitable[None]]


@asynccontextmanager
async def _nothing(context: Context) -> AsyncIterator[None]:
    yield


def before(check: ContextCheck) -> Around:
    """An ``around`` that runs ``check`` (which refuses by raising or aborting) first."""

    @asynccontextmanager
    async def checked(context: Context) -> AsyncIterator[None]:
        await check(context)
        yield

    return checked


Admit = Callable[[Any, Context], Awaitable[Any]]
"""Hands the handler its request (or its requests' iterator), checked."""


async def _as_is(request: Any, context: Context) -> Any:
    return request


def _admit_one(check: RequestCheck) -> Admit:
    async def admit(request: Any, context: Context) -> Any:
        await check(request, context)
        return request

    return admit


def _admit_each(check: RequestCheck) -> Admit:
    async def each(requests: AsyncIterator[Any], context: Context) -> AsyncIterator[Any]:
        async for request in requests:
            await check(request, context)
            yield request

    async def admit(requests: AsyncIterator[Any], context: Context) -> AsyncIterator[Any]:
        return each(requests, context)

    return admit


def _answering(
    inner: Any, admit: Admit, around: Around, each_response: ContextCheck | None
) -> Callable[[Any, Context], Any]:
    """For a handler that returns its answer (or writes its answers with ``context.write``,
    which ``each_response`` does not see)."""

    async def wrapped(request: Any, context: Context) -> Any:
        async with around(context):
            return await inner(await admit(request, context), context)
        raise AssertionError("unreachable: around re-raises or aborts")  # pragma: no cover

    return wrapped


def _yielding(
    inner: Any, admit: Admit, around: Around, each_response: ContextCheck | None
) -> Callable[[Any, Context], Any]:
    """For a handler that yields its answers (an async generator)."""

    async def wrapped(request: Any, context: Context) -> Any:
        async with around(context):
            async for response in inner(await admit(request, context), context):
                if each_response is not None:
                    await each_response(context)
                yield response

    return wrapped


_BUILDERS: Final = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def wrap(
    handler: Handler,
    *,
    around: Around = _nothing,
    each_request: RequestCheck | None = None,
    each_response: ContextCheck | None = None,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> Handler:
    """``handler`` with ``around``, ``each_request`` and ``each_response`` added."""
    inner: Any = (
        handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    )
    streamed = handler.request_streaming
    admit: Admit = _as_is
    if each_request is not None:
        admit = (_admit_each if streamed else _admit_one)(each_request)
    style = _yielding if inspect.isasyncgenfunction(inner) else _answering
    build = _BUILDERS[streamed, handler.response_streaming]
    return build(
        style(inner, admit, around, each_response),
        request_deserializer or handler.request_deserializer,
        handler.response_serializer,
    )


def service_of(method: str) -> str:
    """``/ssbtek.v1.PartyService/GetParty`` -> ``ssbtek.v1.PartyService``."""
    return method.lstrip("/").split("/", 1)[0]


class MethodInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that wraps each method's handler (``wrap_method``).

    grpc resolves the handler for every call; the wrapped handler of a method is made once
    and reused while the handler beneath it is the same object (``wrap_method`` depends on
    the method and that handler only, never on a call), so a call costs a dictionary look-up
    per interceptor, not the rebuilding of its handlers (the overload benchmark, ADR 26).
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # an unknown method: gRPC answers UNIMPLEMENTED
            return None
        method = str(handler_call_details.method)
        wrapped: dict[str, tuple[Handler, Handler]] = self.__dict__.setdefault("_wrapped", {})
        known = wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        made = self.wrap_method(method, handler)
        wrapped[method] = (handler, made)
        return made

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        """The handler to run for ``method`` (e.g. ``/ssbtek.v1.QueryService/SubmitQuery``)."""
        raise NotImplementedError
