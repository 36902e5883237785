"""The gRPC server: the query service, standard health checking, server reflection (v1, v1alpha).

Every call passes one chain of server interceptors, outermost first (ADR 17):

1. ``ReportedCalls`` (``status.py``): maps whatever is raised inside it (an application
   error, or anything unexpected: ``INTERNAL``) to its status with ``ErrorInfo``, and logs
   each call once on ``ssbtek.access`` with its true code: a refusal by any interceptor
   below, and ``CANCELLED`` / ``DEADLINE_EXCEEDED`` when the client left, never ``OK``.
   Outermost, so that nothing below it can end a call unreported.
2. ``UndecodableRequests`` (``undecodable.py``): bytes that are not the request message get
   ``INVALID_ARGUMENT``. Inside the access log, so that such a call is logged too; before
   identity and admission, since decoding happens before any of them runs anyway and the
   refusal tells an unknown caller nothing.
3. then ``interceptors``, in their order: identity (``UNAUTHENTICATED``), admission
   (``RESOURCE_EXHAUSTED``), authorisation (``AdministratorsOnly``, ``AuditorsOnly``:
   ``PERMISSION_DENIED``), cheapest and least revealing refusal first;
4. under ``ssbtek serve``, innermost, ``server_loop.OnApplicationLoop``: the server runs on
   a loop of its own and the servicers' methods on the application's (ADR 26, amended);
5. the servicer's handler.

Each is a ``MethodInterceptor`` (``interceptors.py``), which wraps a method's handler of any
kind in one way. An inner interceptor refuses by raising an application error
(``PermissionDeniedError``, ``OverloadedError``, ...) or by ``context.abort``; either way
the outermost reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.reflection import enable_server_reflection
from adapters.grpc.servicer import GrpcQueryServicer
from adapters.grpc.status import ReportedCalls
from adapters.grpc.undecodable import UndecodableRequests
from application.queries import Queries

MAX_MESSAGE_BYTES: Final = 1024 * 1024
QUERY_SERVICE: Final = pb.DESCRIPTOR.services_by_name["QueryService"].full_name

PENDING_CALLS: Final = (
    ("grpc.server.max_pending_requests", 20_000),
    ("grpc.server.max_pending_requests_hard_limit", 20_000),
)
"""Calls the core holds until the event loop takes them: past grpc's default (1,000, then
at random up to 3,000) it answers CANCELLED, which a caller cannot tell from its own
cancellation. Admission control answers them instead, RESOURCE_EXHAUSTED (ADR 26)."""

ServiceRegistration = Callable[[grpc.aio.Server], str]
"""Adds one more service's servicer to the server; returns its full name (for health and
reflection). Each service module offers one, e.g. ``register_party_service(parties)``."""

HealthReporter = Callable[[health.aio.HealthServicer, Sequence[str]], None]
"""Keeps the health of the named services up to date (``store_health.StoreHealthReporter``)."""


def interceptor_chain(
    inner: Sequence[grpc.aio.ServerInterceptor] = (),
) -> list[grpc.aio.ServerInterceptor]:
    """The server's interceptors, outermost first: the access log and error mapping, the
    decoding check, then ``inner`` (see above). A server without them has no error mapping:
    a servicer raises application errors and leaves their statuses to the chain."""
    return [ReportedCalls(), UndecodableRequests(), *inner]


async def build_server(
    queries: Queries,
    *,
    address: str,
    reuse_port: bool = False,
    services: Sequence[ServiceRegistration] = (),
    credentials: grpc.ServerCredentials | None = None,
    reflection_enabled: bool = True,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    health_servicer: health.aio.HealthServicer | None = None,
    health_reporters: Sequence[HealthReporter] = (),
) -> tuple[grpc.aio.Server, int]:
    """Build (not start) the server on ``address``; returns it and the bound port.

    With ``credentials`` the port speaks mutual TLS only. Production turns reflection off.
    ``health_servicer``: one the caller keeps, to set more statuses on it later.
    ``interceptors`` run inside the access log and the decoding check (see above).
    """
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        *PENDING_CALLS,
    ]
    server = grpc.aio.server(options=options, interceptors=interceptor_chain(interceptors))
    pb_grpc.add_QueryServiceServicer_to_server(GrpcQueryServicer(queries), server)
    names = [QUERY_SERVICE, *(register(server) for register in services)]
    health_servicer = health_servicer or health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in ("", *names):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    for report in health_reporters:  # e.g. NOT_SERVING while the store is down (ADR 23)
        report(health_servicer, names)
    if reflection_enabled:
        enable_server_reflection(server, (*names, health.SERVICE_NAME))
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"could not bind the gRPC server to {address}")
    return server, port
