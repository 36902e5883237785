"""The audit trail wired as the server wires it: sealing while running and on stopping."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import grpc

from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import audit_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from infrastructure.composition import audited, build_audit, build_audit_seals
from infrastructure.key_files import DEV_KEY_FILE
from infrastructure.settings import Settings, Store
from tests.conftest import TEST_KEY
from tests.fakes import FakeClock
from tests.integration.audit.world import (
    EVENTS_PER_QUERY,
    WEDNESDAY_MORNING,
    ask,
    open_queries,
)


async def test_the_service_seals_while_running_and_once_more_when_it_stops(tmp_path: Path) -> None:
    settings = Settings(store=Store.SQLITE, data_dir=tmp_path / "var", pseudonym_key_hex=TEST_KEY)
    clock = FakeClock(WEDNESDAY_MORNING)
    build_audit_seals(settings, clock=clock, signer=None).close()  # as prepare() does
    queries = open_queries(settings, clock)
    audit = build_audit(settings, clock=clock, applications=audited(queries))
    server, port = await build_server(queries, address="127.0.0.1:0", services=[audit.registration])
    await server.start()
    stopping = asyncio.Event()
    sealing = asyncio.create_task(audit.run_sealer(stopping))
    try:
        await ask(queries, clock, 2)
        await asyncio.sleep(0.1)
        stopping.set()
        await asyncio.wait_for(sealing, 10)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            verdict = await pb_grpc.AuditServiceStub(channel).VerifyChain(pb.VerifyChainRequest())
    finally:
        await server.stop(grace=None)
        queries.close()
        audit.close()
    assert verdict.intact
    (chain,) = verdict.chains
    assert (chain.application, chain.sealed_through, chain.unsealed_events) == (
        "queries",
        2 * EVENTS_PER_QUERY,
        0,
    )
    key = settings.data_dir / DEV_KEY_FILE  # development only: production configures the key
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
