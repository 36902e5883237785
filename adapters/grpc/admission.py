"""Admission control at the gRPC edge (ADR 26): a server interceptor, thin.

grpc hands a call to the interceptors as soon as its event loop takes it from the core;
for ``SubmitQuery`` and ``StreamQuery`` this one wraps the method handler so that the
FIRST thing the call does, before the servicer, the saga or the store, is
``Admission.admit`` (microseconds). A refusal is ``RESOURCE_EXHAUSTED`` with
``QuotaFailure``, ``RetryInfo`` (the measured wait) and ``ErrorInfo``; the chain's outermost
interceptor (``status.ReportedCalls``) writes its one access-log line. Nothing from the
request is echoed or logged. An admitted call holds its
permit until it ends, however it ends (answered, refused later, failed, cancelled).

The organisation a call counts against: the one its client certificate proved on a
mutual-TLS connection (``identity.CallerInterceptor`` runs first and refuses a certificate
that proves none), else the one the request names (a request naming another organisation than
its certificate's is refused by the saga anyway). A request naming none, or a malformed
one, counts against a shared unnamed organisation.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import grpc
from grpc_status import rpc_status

from adapters.grpc import status
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.identity import authenticated_organisation
from adapters.grpc.interceptors import Handler, MethodInterceptor
from application.admission import Admission
from application.errors import OverloadedError
from domain.identity import OrganisationNumber

Context = grpc.aio.ServicerContext[Any, Any]
_SERVICE: Final = pb.DESCRIPTOR.services_by_name["QueryService"].full_name
ADMITTED_METHODS: Final = frozenset({f"/{_SERVICE}/SubmitQuery", f"/{_SERVICE}/StreamQuery"})
ENTRY_POINT: Final = "GRPC"


@functools.lru_cache(maxsize=4096)
def _named_organisation(raw: str) -> str:
    try:
        return OrganisationNumber.parse(raw).digits
    except ValueError:
        return ""


def organisation(request: Any, context: Context) -> str:
    """Whose share the call counts against (not personal data: a municipality)."""
    proved = authenticated_organisation(context)
    if proved is not None:
        return proved
    named = getattr(getattr(request, "asking_organisation", None), "organisation_number", "")
    return _named_organisation(named[:40]) if isinstance(named, str) else ""


def _refuse(error: OverloadedError, context: Context) -> None:
    """Set the refusal's status on the call; the handler then returns without an answer.

    Not ``abort``: its exception path costs a refused call about a tenth more CPU, and a
    refusal is what an overloaded server does most."""
    refusal = rpc_status.to_status(status.overloaded(error))
    context.set_code(refusal.code)
    context.set_details(refusal.details)
    context.set_trailing_metadata(refusal.trailing_metadata)


class AdmissionInterceptor(MethodInterceptor):
    """Asks ``admission`` before every query call; refuses at once when it says no.

    Its own handlers rather than ``interceptors.wrap``: a refusal sets the status and
    returns, where ``wrap``'s path would raise and abort (see ``_refuse``)."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        return self._wrap(handler) if method in ADMITTED_METHODS else handler

    def _wrap(self, handler: Any) -> Any:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.unary_stream_rpc_method_handler(
            self._streaming(handler.unary_stream),
            handler.request_deserializer,
            handler.response_serializer,
        )

    def _unary(
        self, behaviour: Callable[[Any, Context], Awaitable[Any]]
    ) -> Callable[[Any, Context], Awaitable[Any]]:
        admission = self._admission

        async def admitted(request: Any, context: Context) -> Any:
            admission.watch()
            try:
                permit = admission.admit(organisation(request, context), ENTRY_POINT)
            except OverloadedError as error:
                _refuse(error, context)
                return None
            try:
                return await behaviour(request, context)
            finally:
                permit.release()

        return admitted

    def _streaming(
        self, behaviour: Callable[[Any, Context], AsyncIterator[Any]]
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        admission = self._admission

        async def admitted(request: Any, context: Context) -> AsyncIterator[Any]:
            admission.watch()
            try:
                permit = admission.admit(organisation(request, context), ENTRY_POINT)
            except OverloadedError as error:
                _refuse(error, context)
                return
            try:
                async for response in behaviour(request, context):
                    yield response
            finally:
                permit.release()

        return admitted
