"""Who may call the administration services: the organisations in ``SSBTEK_ADMINS``.

Municipalities query (``QueryService``); the operator and SKR run the life of the parties,
the agreement, the incidents and the escalations. On a mutual-TLS connection the caller's
organisation comes from its certificate; a caller that is not an administrator gets
``PERMISSION_DENIED`` (ErrorInfo reason ``ADMINISTRATORS_ONLY``) before the servicer runs.
On a plaintext connection (development, 127.0.0.1 only) there is no identity to check,
and production refuses to run without TLS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from adapters.grpc import status
from adapters.grpc.identity import authenticated_organisation


def _service_of(method: str) -> str:
    """``/ssbtek.v1.PartyService/GetParty`` -> ``ssbtek.v1.PartyService``."""
    return method.lstrip("/").split("/", 1)[0]


class AdministratorsOnly(grpc.aio.ServerInterceptor):
    def __init__(self, services: frozenset[str], administrators: frozenset[str]) -> None:
        self._services = services
        self._administrators = administrators

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or _service_of(method) not in self._services:
            return handler
        administrators = self._administrators

        async def refuse_outsiders(context: Any) -> None:
            organisation = authenticated_organisation(context)
            if organisation is not None and organisation not in administrators:
                refusal = status.permission_denied("ADMINISTRATORS_ONLY")
                await context.abort_with_status(rpc_status.to_status(refusal))

        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: Any) -> Any:
                await refuse_outsiders(context)
                return await inner_unary(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream

            async def stream(request: Any, context: Any) -> Any:
                await refuse_outsiders(context)
                async for response in inner_stream(request, context):
                    yield response

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler
