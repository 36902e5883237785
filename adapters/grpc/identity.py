"""The caller of every gRPC call, in one place (ADR 24).

``CallerInterceptor`` derives the caller from the client certificate the TLS handshake
verified (``adapters.security.caller_identity``) before any handler runs. A certificate that
proves no valid organisation, or that the client CA has revoked (ADR 25), gets
``UNAUTHENTICATED`` with a ``google.rpc.ErrorInfo`` (reason
``CERTIFICATE_PROVES_NO_ORGANISATION`` or ``CERTIFICATE_REVOKED``) on every method but the
standard health service, and the service logs one WARNING line naming the certificate's
subject and serial. A server stream is proved again before each message it sends, so a
followed replay ends at its next event once its certificate is revoked.

The caller proved is kept for the call (a context variable of the call's task): handlers and
the other interceptors read it with ``authenticated_organisation`` and never parse the
certificate again.

On a plaintext connection (development, 127.0.0.1 only; production refuses to start without
mutual TLS) there is no certificate and no caller: ``authenticated_organisation`` is ``None``.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, NoReturn

import grpc
from cryptography import x509
from grpc_health.v1 import health
from grpc_status import rpc_status

from adapters.grpc import status
from adapters.security.caller_identity import (
    Caller,
    CallerIdentity,
    CallerRefused,
    organisation_named,
)

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]
OPEN_SERVICES: Final = frozenset({health.SERVICE_NAME})
"""Services any certificate the handshake accepted may call: the standard health check."""

_CALLER: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("ssbtek_caller")


def _certificate(context: Context) -> bytes | None:
    pem_certificates = context.auth_context().get("x509_pem_cert")
    return next(iter(pem_certificates), None) if pem_certificates else None


def authenticated_organisation(context: Context) -> str | None:
    """The organisation the caller's certificate proved; ``None`` on a plaintext connection.

    Set by ``CallerInterceptor`` for the call. On a server built without it (tests of a
    single service), the certificate is read here, and one that proves no organisation gives
    ``""``, which matches no organisation: the call is refused, never let through.
    """
    caller = _CALLER.get(None)
    if caller is not None:
        return caller.organisation
    certificate = _certificate(context)
    if certificate is None:
        return None
    return organisation_named(x509.load_pem_x509_certificate(certificate)) or ""


def _service_of(method: str) -> str:
    return method.lstrip("/").split("/", 1)[0]


class CallerInterceptor(grpc.aio.ServerInterceptor):
    """Proves the caller of every call (but the health check's) before its handler runs."""

    def __init__(
        self,
        identity: CallerIdentity,
        *,
        refused: Callable[[str], None] | None = None,
    ) -> None:
        self._identity = identity
        self._refused = refused

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method = str(handler_call_details.method)
        if handler is None or _service_of(method) in OPEN_SERVICES:
            return handler
        return _guarded(handler, lambda context: self._prove(method, context))

    async def _prove(self, method: str, context: Context) -> None:
        certificate = _certificate(context)
        if certificate is None:
            _CALLER.set(None)
            return
        try:
            _CALLER.set(self._identity.caller(certificate))
        except CallerRefused as refusal:
            await self._refuse(method, context, refusal)

    async def _refuse(self, method: str, context: Context, refusal: CallerRefused) -> NoReturn:
        log.warning(
            "%s refused UNAUTHENTICATED %s: certificate %s, serial %s",
            method,
            refusal.reason,
            refusal.subject,
            refusal.serial,
            extra={
                "method": method,
                "code": grpc.StatusCode.UNAUTHENTICATED.name,
                "reason": refusal.reason,
                "certificate_subject": refusal.subject,
                "certificate_serial": refusal.serial,
            },
        )
        if self._refused is not None:
            self._refused(refusal.reason)
        await context.abort_with_status(
            rpc_status.to_status(status.unauthenticated(refusal.reason))
        )
        raise AssertionError("abort_with_status raises")  # pragma: no cover


def _guarded(handler: Any, prove: Callable[[Context], Awaitable[None]]) -> Any:
    """``handler`` with ``prove`` awaited first, for each of gRPC's four kinds of method."""
    deserializer, serializer = handler.request_deserializer, handler.response_serializer
    if handler.unary_unary is not None:
        unary_unary = handler.unary_unary

        async def unary_unary_proved(request: Any, context: Context) -> Any:
            await prove(context)
            return await unary_unary(request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary_proved, deserializer, serializer)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _streaming(handler.unary_stream, prove), deserializer, serializer
        )
    if handler.stream_unary is not None:
        stream_unary = handler.stream_unary

        async def stream_unary_proved(requests: Any, context: Context) -> Any:
            await prove(context)
            return await stream_unary(requests, context)

        return grpc.stream_unary_rpc_method_handler(stream_unary_proved, deserializer, serializer)
    return grpc.stream_stream_rpc_method_handler(
        _streaming(handler.stream_stream, prove), deserializer, serializer
    )


def _streaming(
    inner: Callable[[Any, Context], Any], prove: Callable[[Context], Awaitable[None]]
) -> Callable[[Any, Context], Any]:
    if inspect.isasyncgenfunction(inner):

        async def generator(request: Any, context: Context) -> Any:
            await prove(context)
            async for response in inner(request, context):
                await prove(context)  # a stream (a followed replay) ends once revoked
                yield response

        return generator

    async def writer(request: Any, context: Context) -> Any:  # writes with ``context.write``
        await prove(context)
        return await inner(request, context)

    return writer
