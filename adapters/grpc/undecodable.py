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

import logging
from collections.abc import Callable
from typing import Any, Final, NoReturn

import grpc

from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, RequestCheck, wrap

log = logging.getLogger(__name__)

MESSAGE: Final = "the request could not be decoded"


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


def _refusing_undecodable(method: str) -> RequestCheck:
    async def refuse(request: Any, context: Context) -> None:
        if request is UNDECODABLE:
            await _refuse(method, context)

    return refuse


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


class UndecodableRequests(MethodInterceptor):
    """Answers an undecodable request ``INVALID_ARGUMENT``, for every method of the server."""

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        if handler.request_deserializer is None:
            return handler
        return wrap(
            handler,
            each_request=_refusing_undecodable(method),
            request_deserializer=_tolerant(handler.request_deserializer),
        )
