"""Canary test: a caseworker's id never rests, on SQLite and on a real PostgreSQL.

Unique canary ids travel through the real gRPC server (in-process, real channel) into every
caseworker command, including ones that fail. Afterwards every stored byte (the SQLite files;
a ``pg_dump`` of the whole database) and every captured log line and error message is
searched for them; only their pseudonyms may be there.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable

import grpc
import pytest
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import party_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import party_service_pb2_grpc as pb_grpc
from adapters.grpc.party_servicer import register_party_services
from adapters.grpc.server import interceptor_chain
from application.demo import seed_demo
from infrastructure.settings import Settings, Store
from tests import canaries
from tests.integration.party_world import DEMO, DEMO_DIGITS, MONDAY_MORNING, World, open_world

CANARIES = [canaries.text("HL") for _ in range(3)]
TODAY = Date(year=2026, month=3, day=2)


@pytest.fixture
async def served(durable_store_settings: Settings) -> AsyncIterator[tuple[World, str]]:
    world = open_world(durable_store_settings)
    seed_demo(world.parties, world.agreements, MONDAY_MORNING)
    server = grpc.aio.server(interceptors=interceptor_chain())
    for register in register_party_services(world.parties, world.agreements):
        register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield world, f"127.0.0.1:{port}"
    await server.stop(grace=1)
    world.close()


async def exercise(target: str) -> list[str]:
    """Every caseworker command with canary ids; returns the error messages it got back."""
    errors: list[str] = []
    first, second, never_registered = CANARIES
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.PartyServiceStub(channel)
        for caseworker in (first, second):
            await stub.RegisterCaseworker(
                pb.RegisterCaseworkerRequest(organisation_number=DEMO, caseworker_id=caseworker)
            )
            await stub.SignAssurance(
                pb.SignAssuranceRequest(
                    organisation_number=DEMO, caseworker_id=caseworker, signed_on=TODAY
                )
            )
        await stub.RevokeCaseworker(
            pb.RevokeCaseworkerRequest(organisation_number=DEMO, caseworker_id=first)
        )
        await stub.RemoveCaseworker(
            pb.RemoveCaseworkerRequest(
                organisation_number=DEMO,
                caseworker_id=second,
                reason=pb.REMOVAL_REASON_CHANGED_TASKS,
            )
        )
        failing: list[Awaitable[object]] = [
            stub.RegisterCaseworker(  # revoked: registered again only after removal
                pb.RegisterCaseworkerRequest(organisation_number=DEMO, caseworker_id=first)
            ),
            stub.RevokeCaseworker(
                pb.RevokeCaseworkerRequest(organisation_number=DEMO, caseworker_id=never_registered)
            ),
            stub.RegisterCaseworker(
                pb.RegisterCaseworkerRequest(
                    organisation_number=DEMO, caseworker_id=never_registered * 6
                )
            ),
        ]
        for call in failing:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            errors.append(f"{refused.value.details()} {refused.value.trailing_metadata()}")
        listed = await stub.ListCaseworkers(pb.ListCaseworkersRequest(organisation_number=DEMO))
        errors.append(str(listed))
    return errors


def stored_bytes(settings: Settings) -> bytes:
    if settings.store is Store.SQLITE:
        files = [f for f in sorted(settings.data_dir.rglob("*")) if f.is_file()]
        assert any(f.name == "parties.sqlite3" for f in files)
        return b"".join(f.read_bytes() for f in files)
    pg = settings.postgres
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump (postgresql-client) is needed to dump every table"
    dump = subprocess.run(
        [pg_dump, "-h", pg.host, "-p", str(pg.port), "-U", pg.user, "--data-only", pg.dbname],
        capture_output=True,
        check=True,
    ).stdout
    assert b"COPY public.parties_events" in dump
    return dump


async def test_no_caseworker_id_reaches_a_stored_byte_a_log_line_or_an_error(
    served: tuple[World, str], durable_store_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world, target = served
    answers = "\n".join(await exercise(target))
    pseudonyms = [world.saga_pseudonym(DEMO_DIGITS, c) for c in CANARIES[:2]]
    assert all(p in answers for p in pseudonyms)  # the pseudonyms are what comes back
    world.close()

    stored = stored_bytes(durable_store_settings)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RegisterCaseworker" in logged  # the access log was captured
    assert pseudonyms[0].encode() in stored or pseudonyms[0].encode().hex().encode() in stored
    for canary in CANARIES:
        value = canary.encode()
        assert value not in stored, "a caseworker id was stored"
        assert value.hex().encode() not in stored.lower(), "a caseworker id was stored (bytea)"
        assert canary not in logged, "a caseworker id was logged"
        assert canary not in answers, "a caseworker id was echoed"
