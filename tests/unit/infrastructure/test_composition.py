"""The composition root builds the whole service, and nothing else builds an application or
an adapter; its administration list names exactly the services it registers besides the
query and audit services."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

import grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from adapters.grpc.audit_servicer import AUDIT_SERVICE
from adapters.grpc.server import QUERY_SERVICE
from infrastructure.composition import ADMINISTRATION_SERVICES, build_grpc_server, build_service
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY


def _listed_services(port: int) -> set[str]:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        return set(ProtoReflectionDescriptorDatabase(channel).get_services())


async def test_the_administration_services_are_the_registered_ones_but_query_and_audit(
    tmp_path: Path,
) -> None:
    settings = Settings(
        store=Store.MEMORY, data_dir=tmp_path, pseudonym_key_hex=TEST_KEY, listen="127.0.0.1:0"
    )
    service = build_service(settings)
    server, port = await build_grpc_server(service, settings)
    await server.start()
    try:
        listed = await asyncio.to_thread(_listed_services, port)
    finally:
        await server.stop(grace=None)
        service.close()
    ours = {name for name in listed if name.startswith("ssbtek.")}
    assert ours - {QUERY_SERVICE, AUDIT_SERVICE} == ADMINISTRATION_SERVICES
    assert len(ADMINISTRATION_SERVICES) == 4


ROOT = Path(__file__).resolve().parents[3]


def _classes(files: Iterable[Path], keep: Callable[[ast.ClassDef], bool]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in files:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and keep(node):
                found[node.name] = path
    return found


def _called(path: Path) -> Iterable[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                yield node.lineno, func.id
            elif isinstance(func, ast.Attribute):
                yield node.lineno, func.attr


def test_only_the_composition_root_constructs_an_application_or_an_adapter() -> None:
    applications = _classes(
        ROOT.glob("application/**/*.py"),
        lambda c: any("ServiceApplication" in ast.unparse(base) for base in c.bases),
    )
    adapters = _classes(
        (p for p in ROOT.glob("adapters/**/*.py") if "generated" not in p.parts),
        lambda c: not c.name.endswith("Error"),
    )
    assert {"Queries", "Parties", "Incidents", "AuditSeals"} <= set(applications)
    assert {"HmacPseudonymiser", "SystemClock", "PrometheusMetrics"} <= set(adapters)
    built = {**applications, **adapters}
    elsewhere = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for folder in ("infrastructure", "application", "domain", "bench")
        for path in sorted(ROOT.glob(f"{folder}/**/*.py"))
        if path.name != "composition.py"
        for line, name in _called(path)
        if name in built and built[name] != path
    ]
    assert elsewhere == []
