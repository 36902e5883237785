"""The composition root builds the whole service; its administration list names exactly the
services it registers besides the query and audit services."""

from __future__ import annotations

import asyncio
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
