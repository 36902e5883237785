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
import logging
from collections.abc import Callable
from functools import partial
from typing import Final, NoReturn

import grpc
from cryptography import x509
from grpc_health.v1 import health
from grpc_status import rpc_status

from adapters.grpc import status
from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, before, service_of, wrap
from adapters.security.caller_identity import (
    Caller,
    CallerIdentity,
    CallerRefused,
    organisation_named,
)

log = logging.getLogger(__name__)

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


class CallerInterceptor(MethodInterceptor):
    """Proves the caller of every call (but the health check's) before its handler runs,
    and again before each answer of a stream (a followed replay ends once revoked)."""

    def __init__(
        self,
        identity: CallerIdentity,
        *,
        refused: Callable[[str], None] | None = None,
    ) -> None:
        self._identity = identity
        self._refused = refused

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        if service_of(method) in OPEN_SERVICES:
            return handler
        prove = partial(self._prove, method)
        return wrap(handler, around=before(prove), each_response=prove)

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
