"""Clients a case-system vendor builds without this project's code, against the running service.

- A reflection-only client: grpc's own reflection client (``ProtoReflectionDescriptorDatabase``)
  speaking ``grpc.reflection.v1``, a descriptor pool filled from it, and dynamic messages. No
  ``.proto`` file and no generated ssbtek code.
- The Node.js example (``clients/node/client.js``: @grpc/grpc-js and @grpc/proto-loader from the
  npm lock) loading only the proto bundle that ``proto/bundle.py`` writes.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.type.date_pb2 import Date
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as party_pb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as party_pb_grpc
from tests import canaries
from tests.e2e.conftest import ROOT, RunningServer

pytestmark = pytest.mark.e2e

RNG = random.Random(20261206)
SUBJECT = canaries.personnummer(RNG)
CASE_ID = canaries.text("VENDORCASE")
CASEWORKER_ID = canaries.text("VENDORCW")
ORGANISATION = "212000-0142"
NODE_DIR = ROOT / "clients" / "node"


@pytest.fixture(scope="module", autouse=True)
def caseworker_with_assurance(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as opened:
        parties = party_pb_grpc.PartyServiceStub(opened)
        parties.RegisterCaseworker(
            party_pb.RegisterCaseworkerRequest(
                organisation_number=ORGANISATION, caseworker_id=CASEWORKER_ID
            ),
            timeout=10,
        )
        parties.SignAssurance(
            party_pb.SignAssuranceRequest(
                organisation_number=ORGANISATION,
                caseworker_id=CASEWORKER_ID,
                signed_on=Date(year=2026, month=1, day=2),
            ),
            timeout=10,
        )


class _ReflectionV1Stub:
    """The ``grpc.reflection.v1`` method; its messages are v1alpha's, field for field."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.ServerReflectionInfo = channel.stream_stream(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )


class ReflectionV1Database(ProtoReflectionDescriptorDatabase):  # type: ignore[misc]
    """grpc's reflection client, asking over ``grpc.reflection.v1`` instead of ``v1alpha``."""

    def __init__(self, channel: grpc.Channel) -> None:
        super().__init__(channel)
        self._stub = _ReflectionV1Stub(channel)


def test_a_reflection_only_client_submits_a_query_over_reflection_v1(
    server: RunningServer,
) -> None:
    with grpc.insecure_channel(server.target) as channel:
        database = ReflectionV1Database(channel)
        services = set(database.get_services())
        assert {"ssbtek.v1.QueryService", "grpc.reflection.v1.ServerReflection"} <= services
        assert "grpc.reflection.v1alpha.ServerReflection" in services
        pool = descriptor_pool.DescriptorPool(database)
        method = pool.FindServiceByName("ssbtek.v1.QueryService").methods_by_name["SubmitQuery"]
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        request = json_format.ParseDict(
            {
                "asking_organisation": {"organisation_number": ORGANISATION},
                "caseworker_id": CASEWORKER_ID,
                "case_id": CASE_ID,
                "purpose": "PURPOSE_FINANCIAL_ASSISTANCE_CASE",
                "legal_basis": "LEGAL_BASIS_SOL_11_KAP_11",
                "period": {
                    "start": {"year": 2026, "month": 1, "day": 1},
                    "end": {"year": 2026, "month": 6, "day": 30},
                },
                "subjects": [SUBJECT],
                "providers": [{"provider": "PROVIDER_CSN"}],
            },
            request_class(),
        )
        submit = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        response = submit(request, timeout=30)
    answer = json_format.MessageToDict(response, preserving_proto_field_name=True)["answer"]
    assert uuid.UUID(answer["query_id"])
    (subject,) = answer["subjects"]
    assert subject["subject"] == SUBJECT
    assert [part["provider"] for part in subject["parts"]] == ["PROVIDER_CSN"]


def test_reflection_v1_describes_itself(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = _ReflectionV1Stub(channel)
        request = reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="grpc.reflection.v1.ServerReflection"
        )
        (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
    (serialized,) = response.file_descriptor_response.file_descriptor_proto
    described = FileDescriptorProto.FromString(serialized)
    assert described.name == "grpc/reflection/v1/reflection.proto"
    assert described.package == "grpc.reflection.v1"
    assert described.service[0].method[0].input_type == (
        ".grpc.reflection.v1.ServerReflectionRequest"
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    into = tmp_path_factory.mktemp("vendor") / "protos"
    subprocess.run(
        [sys.executable, str(ROOT / "proto" / "bundle.py"), str(into)], check=True, timeout=60
    )
    return into


def _node_client(bundle: Path, server: RunningServer, client_request_id: str) -> list[Any]:
    node = shutil.which("node")
    assert node, "Node.js (20 or later) is needed on PATH"
    assert (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir(), (
        "the Node.js packages are not installed: run `make node-deps` (npm ci from the lock)"
    )
    command = [node, str(NODE_DIR / "client.js"), "--bundle", str(bundle)]
    command += ["--target", server.target, "--organisation", ORGANISATION]
    command += ["--caseworker", CASEWORKER_ID, "--case", CASE_ID, "--subject", SUBJECT]
    command += ["--client-request-id", client_request_id]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    return [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]


def _errors(lines: list[Any]) -> Iterator[Any]:
    return (line for line in lines if line["event"] == "error")


def test_the_node_client_submits_streams_and_prints_structured_errors(
    bundle: Path, server: RunningServer
) -> None:
    lines = _node_client(bundle, server, client_request_id=f"node-{uuid.uuid4()}")
    (submitted,) = (line for line in lines if line["event"] == "submitted")
    assert uuid.UUID(submitted["query_id"])
    assert submitted["parts"] == 8
    parts = [line for line in lines if line["event"] == "part"]
    assert sorted(part["provider"] for part in parts) == sorted(
        [
            "PROVIDER_ARBETSFORMEDLINGEN",
            "PROVIDER_CSN",
            "PROVIDER_FORSAKRINGSKASSAN",
            "PROVIDER_MIGRATIONSVERKET",
            "PROVIDER_PENSIONSMYNDIGHETEN",
            "PROVIDER_SKATTEVERKET",
            "PROVIDER_UNEMPLOYMENT_FUNDS",
            "PROVIDER_TRANSPORTSTYRELSEN",
        ]
    )
    (summary,) = (line for line in lines if line["event"] == "summary")
    assert summary["query_id"] != submitted["query_id"]
    assert lines[-1]["event"] == "done"

    by_code = {error["code"]: error for error in _errors(lines)}
    assert set(by_code) == {"INVALID_ARGUMENT", "ALREADY_EXISTS"}
    invalid = {detail["@type"]: detail for detail in by_code["INVALID_ARGUMENT"]["details"]}
    fields = [v["field"] for v in invalid["google.rpc.BadRequest"]["field_violations"]]
    assert fields == ["subjects[0]"]
    assert invalid["google.rpc.ErrorInfo"]["reason"] == "INVALID_ARGUMENT"
    duplicate = {detail["@type"]: detail for detail in by_code["ALREADY_EXISTS"]["details"]}
    first = duplicate["ssbtek.v1.QueryAlreadyReceived"]
    assert first["query_id"] == submitted["query_id"]
    assert first["state"] in ("QUERY_STATE_DELIVERED", "QUERY_STATE_ERASED")
    assert duplicate["google.rpc.ErrorInfo"]["reason"] == "DUPLICATE_REQUEST"
    assert duplicate["google.rpc.ErrorInfo"]["metadata"]["query_id"] == submitted["query_id"]
