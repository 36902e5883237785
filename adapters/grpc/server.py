"""The gRPC server: the query service, standard health checking, server reflection (v1, v1alpha)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.reflection import enable_server_reflection
from adapters.grpc.servicer import GrpcQueryServicer
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


async def build_server(
    queries: Queries,
    *,
    address: str,
    reuse_port: bool = False,
    services: Sequence[ServiceRegistration] = (),
    credentials: grpc.ServerCredentials | None = None,
    reflection_enabled: bool = True,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> tuple[grpc.aio.Server, int]:
    """Build (not start) the server on ``address``; returns it and the bound port.

    With ``credentials`` the port speaks mutual TLS only. Production turns reflection off.
    """
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        *PENDING_CALLS,
    ]
    server = grpc.aio.server(options=options, interceptors=[UndecodableRequests(), *interceptors])
    pb_grpc.add_QueryServiceServicer_to_server(GrpcQueryServicer(queries), server)
    names = [QUERY_SERVICE, *(register(server) for register in services)]
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for service in ("", *names):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    if reflection_enabled:
        enable_server_reflection(server, (*names, health.SERVICE_NAME))
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"could not bind the gRPC server to {address}")
    return server, port
