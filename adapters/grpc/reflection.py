"""Server reflection in both versions: ``grpc.reflection.v1`` and ``grpc.reflection.v1alpha``.

Current clients (grpcurl, Postman, grpc-java's and grpc-go's tooling) ask ``v1`` first;
older ones only know ``v1alpha``. grpcio-reflection (the version in ``uv.lock``) serves
only ``v1alpha``. The ``v1`` protocol is the ``v1alpha`` one promoted unchanged: the same
messages with the same fields and numbers, only the package differs. So ``v1`` is served
by the same servicer, bound to the ``v1`` method name, with the ``v1alpha`` message classes
doing the (identical) wire encoding; and the ``v1`` file descriptor, derived from the
``v1alpha`` one by renaming its package, is added to the pool so that reflection can
describe itself in both versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.reflection import aio

V1ALPHA_SERVICE: Final = "grpc.reflection.v1alpha.ServerReflection"
V1_SERVICE: Final = "grpc.reflection.v1.ServerReflection"
V1_FILE: Final = "grpc/reflection/v1/reflection.proto"
_V1ALPHA: Final = ".grpc.reflection.v1alpha."
_V1: Final = ".grpc.reflection.v1."


def v1_file() -> descriptor_pb2.FileDescriptorProto:
    """``grpc/reflection/v1/reflection.proto`` as a descriptor: v1alpha's, package renamed."""
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    proto.name = V1_FILE
    proto.package = "grpc.reflection.v1"
    proto.options.java_package = "io.grpc.reflection.v1"
    proto.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    proto.options.ClearField("deprecated")
    for message in proto.message_type:
        for field in message.field:
            if field.HasField("type_name"):
                field.type_name = field.type_name.replace(_V1ALPHA, _V1)
    for method in proto.service[0].method:
        method.input_type = method.input_type.replace(_V1ALPHA, _V1)
        method.output_type = method.output_type.replace(_V1ALPHA, _V1)
    return proto


def _add_v1_file(pool: descriptor_pool.DescriptorPool) -> None:
    try:
        pool.FindFileByName(V1_FILE)
    except KeyError:
        pool.AddSerializedFile(v1_file().SerializeToString())


def enable_server_reflection(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serve reflection v1 and v1alpha on ``server``, listing ``service_names`` and itself."""
    pool = descriptor_pool.Default()
    _add_v1_file(pool)
    servicer = aio.ReflectionServicer((*service_names, V1_SERVICE, V1ALPHA_SERVICE), pool=pool)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    v1 = grpc.method_handlers_generic_handler(
        V1_SERVICE,
        {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                servicer.ServerReflectionInfo,
                request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
            )
        },
    )
    server.add_generic_rpc_handlers((v1,))
