"""L0: a bare ``grpc.aio`` server that echoes the ``SubmitQueryRequest`` back.

A generic handler on the service's own method path (``/ssbtek.v1.QueryService/SubmitQuery``)
parses the request and returns the same message, serialised again. It is the floor of the
ladder: one gRPC round trip plus protobuf parsing and serialising, nothing else.
"""

from __future__ import annotations

import grpc

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb


async def _echo(
    request: pb.SubmitQueryRequest, context: grpc.aio.ServicerContext[object, object]
) -> pb.SubmitQueryRequest:
    return request


def echo_handler() -> grpc.GenericRpcHandler:
    """The generic handler answering ``SubmitQuery`` with the request itself."""
    return grpc.method_handlers_generic_handler(
        "ssbtek.v1.QueryService",
        {
            "SubmitQuery": grpc.unary_unary_rpc_method_handler(
                _echo,
                request_deserializer=pb.SubmitQueryRequest.FromString,
                response_serializer=pb.SubmitQueryRequest.SerializeToString,
            )
        },
    )
