"""A request that cannot be decoded is the caller's mistake: ``INVALID_ARGUMENT``.

gRPC decodes a request before any handler runs. When the bytes are not the request
message (an invalid tag, a truncated varint, a length past the end, invalid UTF-8 in a
string field, groups nested too deep, random bytes), protobuf raises ``DecodeError`` and
grpc answers ``UNKNOWN`` with the library's exception text and logs a traceback. This
server interceptor wraps every method's deserializer so that such a request becomes
``INVALID_ARGUMENT`` "the request could not be decoded" (nothing of the library's text,
nothing of the bytes) and one WARNING line naming the method, for every service the
server holds: unary and streaming, request by request.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, NoReturn

import grpc

log = logging.getLogger(__name__)

MESSAGE: Final = "the request could not be decoded"
Context = grpc.aio.ServicerContext[Any, Any]


class _Undecodable:
    """Stands in for a request whose bytes did not decode; the handler never sees it."""


UNDECODABLE: Final = _Undecodable()


def _tolerant(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # DecodeError, and whatever else a message's parser raises
            return UNDECODABLE

    return deserialize


async def _refuse(method: str, context: Context) -> NoReturn:
    log.warning(
        "%s %s: %s",
        method,
        grpc.StatusCode.INVALID_ARGUMENT.name,
        MESSAGE,
        extra={"method": method, "code": grpc.StatusCode.INVALID_ARGUMENT.name},
    )
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, MESSAGE)
    raise AssertionError("abort raises")  # pragma: no cover


async def _checked(method: str, requests: AsyncIterator[Any], context: Context) -> Any:
    async for request in requests:
        if request is UNDECODABLE:
            await _refuse(method, context)
        yield request


def _guard(method: str, handler: Any) -> Any:
    deserializer = _tolerant(handler.request_deserializer)
    serializer = handler.response_serializer
    guarded: Callable[[Any, Context], Any]
    if handler.unary_unary is not None:
        unary_unary = handler.unary_unary

        async def unary_unary_guarded(request: Any, context: Context) -> Any:
            if request is UNDECODABLE:
                await _refuse(method, context)
            return await unary_unary(request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary_guarded, deserializer, serializer)
    if handler.unary_stream is not None:
        unary_stream = handler.unary_stream
        if inspect.isasyncgenfunction(unary_stream):

            async def unary_stream_generator(request: Any, context: Context) -> Any:
                if request is UNDECODABLE:
                    await _refuse(method, context)
                async for response in unary_stream(request, context):
                    yield response

            guarded = unary_stream_generator
        else:  # a coroutine that writes its answers itself (``context.write``)

            async def unary_stream_writer(request: Any, context: Context) -> Any:
                if request is UNDECODABLE:
                    await _refuse(method, context)
                return await unary_stream(request, context)

            guarded = unary_stream_writer
        return grpc.unary_stream_rpc_method_handler(guarded, deserializer, serializer)
    if handler.stream_unary is not None:
        stream_unary = handler.stream_unary

        async def stream_unary_guarded(requests: Any, context: Context) -> Any:
            return await stream_unary(_checked(method, requests, context), context)

        return grpc.stream_unary_rpc_method_handler(stream_unary_guarded, deserializer, serializer)
    stream_stream = handler.stream_stream
    if inspect.isasyncgenfunction(stream_stream):

        async def stream_stream_generator(requests: Any, context: Context) -> Any:
            async for response in stream_stream(_checked(method, requests, context), context):
                yield response

        guarded = stream_stream_generator
    else:

        async def stream_stream_writer(requests: Any, context: Context) -> Any:
            return await stream_stream(_checked(method, requests, context), context)

        guarded = stream_stream_writer
    return grpc.stream_stream_rpc_method_handler(guarded, deserializer, serializer)


class UndecodableRequests(grpc.aio.ServerInterceptor):
    """Answers an undecodable request ``INVALID_ARGUMENT``, for every method of the server."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        return _guard(str(handler_call_details.method), handler)
