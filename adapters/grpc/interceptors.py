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
- ``request_deserializer``: another deserializer for the request bytes.

``MethodInterceptor`` is the base of the service's interceptors: it resolves the handler and
hands it, with the method's full name, to ``wrap_method``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeAlias

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # generic in the stubs only
Around = Callable[[Context], AbstractAsyncContextManager[object]]
RequestCheck = Callable[[Any, Context], Awaitable[None]]


@asynccontextmanager
async def _nothing(context: Context) -> AsyncIterator[None]:
    yield


def before(check: Callable[[Context], Awaitable[None]]) -> Around:
    """An ``around`` that runs ``check`` (which refuses by raising or aborting) first."""

    @asynccontextmanager
    async def checked(context: Context) -> AsyncIterator[None]:
        await check(context)
        yield

    return checked


async def _each_checked(
    requests: AsyncIterator[Any], context: Context, check: RequestCheck
) -> AsyncIterator[Any]:
    async for request in requests:
        await check(request, context)
        yield request


def _checked(
    requests: AsyncIterator[Any], context: Context, check: RequestCheck | None
) -> AsyncIterator[Any]:
    return requests if check is None else _each_checked(requests, context, check)


def wrap(
    handler: Handler,
    *,
    around: Around = _nothing,
    each_request: RequestCheck | None = None,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> Handler:
    """``handler`` with ``around`` and ``each_request`` added."""
    deserializer = request_deserializer or handler.request_deserializer
    serializer = handler.response_serializer
    unreachable = "unreachable: around re-raises or aborts"
    if handler.unary_unary is not None:
        unary_unary: Any = handler.unary_unary

        async def unary_unary_wrapped(request: Any, context: Context) -> Any:
            async with around(context):
                if each_request is not None:
                    await each_request(request, context)
                return await unary_unary(request, context)
            raise AssertionError(unreachable)  # pragma: no cover

        return grpc.unary_unary_rpc_method_handler(unary_unary_wrapped, deserializer, serializer)
    wrapped: Callable[[Any, Context], Any]
    if handler.unary_stream is not None:
        unary_stream: Any = handler.unary_stream
        if inspect.isasyncgenfunction(unary_stream):

            async def unary_stream_generator(request: Any, context: Context) -> Any:
                async with around(context):
                    if each_request is not None:
                        await each_request(request, context)
                    async for response in unary_stream(request, context):
                        yield response

            wrapped = unary_stream_generator
        else:  # a coroutine that writes its answers itself (``context.write``)

            async def unary_stream_writer(request: Any, context: Context) -> Any:
                async with around(context):
                    if each_request is not None:
                        await each_request(request, context)
                    return await unary_stream(request, context)
                raise AssertionError(unreachable)  # pragma: no cover

            wrapped = unary_stream_writer
        return grpc.unary_stream_rpc_method_handler(wrapped, deserializer, serializer)
    if handler.stream_unary is not None:
        stream_unary: Any = handler.stream_unary

        async def stream_unary_wrapped(requests: Any, context: Context) -> Any:
            async with around(context):
                return await stream_unary(_checked(requests, context, each_request), context)
            raise AssertionError(unreachable)  # pragma: no cover

        return grpc.stream_unary_rpc_method_handler(stream_unary_wrapped, deserializer, serializer)
    stream_stream: Any = handler.stream_stream
    if inspect.isasyncgenfunction(stream_stream):

        async def stream_stream_generator(requests: Any, context: Context) -> Any:
            async with around(context):
                async for response in stream_stream(
                    _checked(requests, context, each_request), context
                ):
                    yield response

        wrapped = stream_stream_generator
    else:

        async def stream_stream_writer(requests: Any, context: Context) -> Any:
            async with around(context):
                return await stream_stream(_checked(requests, context, each_request), context)
            raise AssertionError(unreachable)  # pragma: no cover

        wrapped = stream_stream_writer
    return grpc.stream_stream_rpc_method_handler(wrapped, deserializer, serializer)


class MethodInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that wraps each method's handler (``wrap_method``)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # an unknown method: gRPC answers UNIMPLEMENTED
            return None
        return self.wrap_method(str(handler_call_details.method), handler)

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        """The handler to run for ``method`` (e.g. ``/ssbtek.v1.QueryService/SubmitQuery``)."""
        raise NotImplementedError
