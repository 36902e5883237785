"""Bytes that are not the request message get INVALID_ARGUMENT, on every method of every
service, and one WARNING line each: no UNKNOWN, no library text, no traceback.

The service runs as the README starts it; the raw bytes go over a real channel with
grpc's own generic calls and an identity serializer (``adapters/grpc/undecodable.py``).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf import descriptor, message_factory
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from adapters.grpc.generated.ssbtek.v1 import (
    agreement_service_pb2,
    audit_service_pb2,
    escalation_service_pb2,
    incident_service_pb2,
    party_service_pb2,
    query_service_pb2,
)
from tests.e2e.conftest import RunningServer

pytestmark = pytest.mark.e2e

MESSAGE = "the request could not be decoded"
SERVICES = [
    service
    for module in (
        query_service_pb2,
        party_service_pb2,
        agreement_service_pb2,
        incident_service_pb2,
        escalation_service_pb2,
        audit_service_pb2,
        health_pb2,
        reflection_pb2,
    )
    for service in module.DESCRIPTOR.services_by_name.values()
]
METHODS = [method for service in SERVICES for method in service.methods]


def _identity(data: bytes) -> bytes:
    return data


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _string_field(kind: descriptor.Descriptor) -> descriptor.FieldDescriptor | None:
    for field in kind.fields:
        if field.type == descriptor.FieldDescriptor.TYPE_STRING:
            return field
    return None


def _random_undecodable(request: type[Message], seed: str) -> bytes:
    source = random.Random(seed)
    while True:
        data = source.randbytes(source.randint(1, 64))
        try:
            request.FromString(data)
        except DecodeError:
            return data


def payloads(method: descriptor.MethodDescriptor) -> Iterator[tuple[str, bytes]]:
    """The attack's kinds of bytes, each checked here to be undecodable as the request."""
    request = message_factory.GetMessageClass(method.input_type)
    text = _string_field(method.input_type)
    kinds: list[tuple[str, bytes]] = [
        ("invalid tag (wire type 7)", _tag(1, 7) + b"\x01"),
        ("invalid tag (field 0)", b"\x00"),
        ("truncated varint", b"\x08\xff\xff"),
        ("a length claiming 1 GB", _tag(127, 2) + _varint(2**30) + b"abc"),
        ("deep group nesting", _tag(127, 3) * 200 + _tag(127, 4) * 200),
        ("random bytes", _random_undecodable(request, method.full_name)),
    ]
    if text is not None:
        kinds.append(("invalid UTF-8", _tag(text.number, 2) + b"\x02\xc3\x28"))
    for name, data in kinds:
        with pytest.raises(DecodeError):
            request.FromString(data)
        yield name, data


def call(
    channel: grpc.Channel, method: descriptor.MethodDescriptor
) -> Callable[[bytes], grpc.RpcError]:
    path = f"/{method.containing_service.full_name}/{method.name}"
    kind = (method.client_streaming, method.server_streaming)

    def send(data: bytes) -> grpc.RpcError:
        try:
            if kind == (False, False):
                channel.unary_unary(path, _identity, _identity)(data, timeout=10)
            elif kind == (False, True):
                list(channel.unary_stream(path, _identity, _identity)(data, timeout=10))
            elif kind == (True, False):
                channel.stream_unary(path, _identity, _identity)(iter([data]), timeout=10)
            else:
                list(channel.stream_stream(path, _identity, _identity)(iter([data]), timeout=10))
        except grpc.RpcError as error:
            return error
        raise AssertionError(f"{path} answered undecodable bytes")

    return send


def _level(line: str) -> str:
    try:
        return str(json.loads(line).get("level", "")).lower()
    except ValueError:
        return ""


def test_every_method_refuses_undecodable_bytes_with_invalid_argument_and_one_warning(
    server: RunningServer, channel: grpc.Channel
) -> None:
    assert len(SERVICES) == 8
    log_before = len(server.log_text())
    sent = 0
    for method in METHODS:
        send = call(channel, method)
        for name, data in payloads(method):
            error = send(data)
            where = f"{method.full_name}, {name}"
            assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, where
            assert error.details() == MESSAGE, where
            sent += 1
    assert sent > 6 * len(SERVICES)

    deadline = time.monotonic() + 10
    while True:
        lines = server.log_text()[log_before:].splitlines()
        refused = [line for line in lines if MESSAGE in line]
        if len(refused) >= sent or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(refused) == sent  # one line per request
    assert {_level(line) for line in refused} == {"warning"}
    text = "\n".join(lines)
    for leak in ("Traceback", "DecodeError", "Error parsing", "Unexpected"):
        assert leak not in text
    assert "error" not in {_level(line) for line in lines}
