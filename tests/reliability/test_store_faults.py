"""Store faults: PostgreSQL stops in the middle of the work. Queries get UNAVAILABLE
quickly, no answer leaves without its audit events, and the service recovers by itself
when PostgreSQL returns. The stopped server is a private cluster, never the shared one."""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from google.type.date_pb2 import Date

from adapters.grpc.generated.ssbtek.v1 import query_service_pb2 as pb
from adapters.grpc.generated.ssbtek.v1 import query_service_pb2_grpc as pb_grpc
from adapters.grpc.server import build_server
from adapters.providers.simulated import build_simulated_base_services
from application.queries import Queries
from domain.query.aggregate import Query, QueryStatus
from infrastructure.composition import build_queries
from infrastructure.settings import PostgresSettings, Settings, Store
from tests import canaries
from tests.reliability.private_postgres import PrivatePostgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres(Path(tempfile.mkdtemp(prefix="ssbtek-pg-")) / "cluster", port=55430)
    pg.initialise()
    pg.start()
    pg.create_database("ssbtek")
    yield pg
    with contextlib.suppress(RuntimeError):  # already stopped by a failed test
        pg.stop()


@pytest.fixture
def settings(cluster: PrivatePostgres) -> Settings:
    return Settings(
        store=Store.POSTGRES,
        postgres=PostgresSettings(port=cluster.port, dbname="ssbtek", connect_timeout_s=2),
        pseudonym_key_hex="55" * 32,
        rate_limit="",
    )


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, Queries]]:
    queries = build_queries(
        settings, base_services=build_simulated_base_services({"latency": "none"})
    )
    server, port = await build_server(queries, address="127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", queries
    await server.stop(grace=None)
    queries.close()


RNG = random.Random(77)
HUNTED: list[str] = []


def request() -> pb.SubmitQueryRequest:
    subject, case_id, caseworker = (
        canaries.personnummer(RNG),
        canaries.text("CASE"),
        canaries.text("HL"),
    )
    HUNTED.extend([*canaries.forms(subject), case_id, caseworker])
    return pb.SubmitQueryRequest(
        client_request_id=uuid.uuid4().hex,
        asking_organisation=pb.AskingOrganisation(organisation_number="212000-0142"),
        caseworker_id=caseworker,
        case_id=case_id,
        purpose=pb.PURPOSE_FINANCIAL_ASSISTANCE_CASE,
        legal_basis=pb.LEGAL_BASIS_SOL_11_KAP_11,
        period=pb.Period(
            start=Date(year=2026, month=1, day=1), end=Date(year=2026, month=6, day=30)
        ),
        subjects=[subject],
    )


async def test_postgres_stopping_gives_unavailable_quickly_and_the_service_recovers_by_itself(
    cluster: PrivatePostgres, served: tuple[str, Queries], settings: Settings
) -> None:
    target, _ = served
    answered: list[str] = []
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.QueryServiceStub(channel)
        for _ in range(5):
            answered.append((await stub.SubmitQuery(request(), timeout=10)).answer.query_id)

        cluster.stop()
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.SubmitQuery(request(), timeout=20)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
            assert time.monotonic() - started < 5

        cluster.start()
        deadline = time.monotonic() + 30
        codes = []
        while time.monotonic() < deadline:
            call = stub.SubmitQuery(request(), timeout=10)
            try:
                answered.append((await call).answer.query_id)
                break
            except grpc.aio.AioRpcError:
                codes.append(await call.code())
                await asyncio.sleep(0.5)
        else:
            raise AssertionError("the service did not recover within 30 s")
        assert set(codes) <= {grpc.StatusCode.UNAVAILABLE}

    reader = build_queries(settings, base_services={})
    try:
        for query_id in answered:
            query: Query = reader.repository.get(uuid.UUID(query_id))
            assert isinstance(query, Query)
            assert query.status is QueryStatus.ERASED  # every acknowledged answer has its audit
    finally:
        reader.close()
    await asyncio.to_thread(cluster.checkpoint)
    on_disk = b"".join(p.read_bytes() for p in cluster.data.rglob("*") if p.is_file())
    assert b'"asking_organisation":"2120000142"' in on_disk  # the scan does read the events
    for value in HUNTED:
        assert value.encode() not in on_disk, "a personal value is in PostgreSQL's files or WAL"
